"""`moviefaces serve`: the browser people editor over an output folder, on this machine.

It listens on 127.0.0.1 by default and prints its address with a session token; another
`--host` (e.g. 0.0.0.0) needs a `--token` of your own."""

from __future__ import annotations

import argparse
import sys

from .common import CliError, add_setting, printable, read_root

DEFAULT_PORT = 8757
LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="the people editor in your browser (a local web app)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the port (default {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--token", default=None,
                        help="the session token (default: a new random one per start)")
    add_setting(parser, "store.output_dir")
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    from ..editor.security import new_token
    from ..editor.server import prepare

    if args.host not in LOCAL and not args.token:
        raise CliError(f"--host {args.host} lets other machines in: give a --token of your own")
    if args.token is not None and (len(args.token) < 8 or not args.token.isprintable()
                                   or any(c in args.token for c in " &#?/%+")):
        raise CliError("--token: at least 8 printable characters, without spaces or &#?/%+")
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port}: a port is 0 to 65535")
    root = read_root(args)
    token = args.token or new_token()
    try:
        server, sock, _editor, base = prepare(root.path, token, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})"
                       ) from None
    print(f"moviefaces editor for {printable(str(root.path))}", flush=True)
    print(f"open {base}/?token={token}", flush=True)
    print("Ctrl-C stops it.", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    return 0
