"""`moviefaces export MOVIE`: a processed movie's people as a dataset to take away."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import FORMATS, ExportError, default_export_dir, export_dataset
from ..layout import DB_NAME
from .common import CliError, add_movie_arguments, open_store


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="export a processed movie's people as a dataset")
    add_movie_arguments(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default="folders",
        help="folders: a folder of portrait crops and a montage per person; yolo: frame images "
             "with YOLO annotations; jsonl: one line per person and per face (default: folders)",
    )
    parser.add_argument("--out", default=None,
                        help="folder to write (default: <output-dir>/<movie>/dataset/<format>)")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    output_dir = Path(args.output_dir).resolve()
    if not (output_dir / DB_NAME).is_file():
        raise CliError(f"no moviefaces database in {output_dir}; run `moviefaces run "
                       f"{args.movie} --output-dir {args.output_dir}` first")
    store = open_store(output_dir)
    key = movie_key(store.movie_keys(), args.movie)
    out = Path(args.out) if args.out else default_export_dir(output_dir, key, args.format)
    try:
        result = export_dataset(store, key, out, args.format)
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    details = ", ".join(f"{k} {v}" for k, v in result.items()
                        if k not in ("path", "movie", "partition", "format"))
    print(f"exported {key} as {args.format} to {result['path']} ({details})")
    return 0


def movie_key(registered: dict[str, str], movie: str) -> str:
    """The partition key of `movie`, given as a file path or as the key itself."""
    resolved = str(Path(movie).resolve())
    for key, path in registered.items():
        if path == resolved:
            return key
    if movie in registered:
        return movie
    raise CliError(f"{movie} has not been processed; run `moviefaces run {movie}` first")
