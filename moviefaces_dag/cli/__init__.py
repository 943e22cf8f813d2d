"""`moviefaces`: the command line. Each subcommand lives in its own module with an
`add_parser(subparsers)` function that registers it."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from . import (
    add,
    eval,
    export,
    farm,
    library,
    people,
    review,
    run,
    serve,
    settings,
    triton_serve,
    worker,
)
from .common import EXPECTED_FAILURES, file_system_failure, printable

SUBCOMMANDS = [run, add, people, review, library, serve, export, eval, settings, triton_serve,
               worker, farm]


class Parser(argparse.ArgumentParser):
    """Usage mistakes end with one line (and exit status 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {printable(message)} (see {self.prog} --help)",
              file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="moviefaces", description="Who is in this film.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of a failure (for developers)")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("moviefaces: interrupted", file=sys.stderr)
        return 130
    except EXPECTED_FAILURES as exc:
        if args.debug:
            raise
        text = str(exc)
        if isinstance(exc, OSError) and exc.errno is not None:  # the file system's own
            text = file_system_failure(exc, getattr(args, "output_dir", None))
        print(f"moviefaces: error: {printable(text) or type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
