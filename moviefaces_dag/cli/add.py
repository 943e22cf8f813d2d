"""`moviefaces add MOVIE`: register a movie as a partition without running anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_movie_arguments, output_root, register


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("add", help="register a movie as a Dagster partition")
    add_movie_arguments(parser)
    parser.set_defaults(func=run_add)


def run_add(args: argparse.Namespace) -> int:
    key = register(Path(args.movie), output_root(args.output_dir))
    print(f"registered {args.movie} as partition {key}")
    return 0
