"""`moviefaces export MOVIE`: a processed movie's people as a dataset to take away."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..people.library import library_ids, library_names
from ..report.export import FORMATS, ExportError, default_export_dir, export_dataset
from .common import CliError, add_movie_arguments, movie_folder, read_root


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
    root = read_root(args)
    folder = movie_folder(root, args.movie)
    out = Path(args.out) if args.out else default_export_dir(folder, args.format)
    try:
        result = export_dataset(folder, out, args.format, library_ids(root),
                                library_names(root))
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    details = ", ".join(f"{k} {v}" for k, v in result.items()
                        if k not in ("path", "movie", "partition", "format"))
    print(f"exported {folder.key} as {args.format} to {result['path']} ({details})")
    return 0
