"""`moviefaces`: the command line. Each subcommand lives in its own module with an
`add_parser(subparsers)` function that registers it."""

from __future__ import annotations

import argparse
import sys

from ..video import MovieError
from . import add, eval, export, run, triton_serve
from .common import CliError

SUBCOMMANDS = [run, add, export, triton_serve, eval]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moviefaces", description="Who is in this film.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, MovieError) as exc:
        print(f"moviefaces: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
