"""`moviefaces add MOVIE`: register a movie as a partition without running anything."""

from __future__ import annotations

import argparse

from .common import add_movie_arguments, output_root, register, shared_root


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("add", help="register a movie as a Dagster partition")
    add_movie_arguments(parser)
    parser.set_defaults(func=run_add)


def run_add(args: argparse.Namespace) -> int:
    key = register(args.movie, shared_root(args) or output_root(args))
    print(f"registered {args.movie} as partition {key}")
    return 0
