"""`moviefaces eval MOVIE --truth TRUTH.json`: score the pipeline's faces and people against a
ground-truth file, running the pipeline first unless its results for this sampling rate exist."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ..evaluation.scoring import evaluate_stored, format_table
from ..evaluation.truth import GroundTruth, TruthError
from ..media.video import probe_movie
from ..store import MovieFolder, OutputRoot
from .common import (
    CliError,
    add_movie_arguments,
    add_setting,
    output_root,
    printable,
    register,
    setting,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval", help="score detected faces and people against a ground-truth file")
    add_movie_arguments(parser)
    parser.add_argument("--truth", required=True,
                        help="ground truth JSON (format of shared/testdata/movies/*.json)")
    add_setting(parser, "sampling.fps")
    parser.add_argument("--rerun", action="store_true",
                        help="run the pipeline even when stored results exist")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the scores as JSON to PATH ('-' for stdout only)")
    parser.set_defaults(func=evaluate_movie)


def evaluate_movie(args: argparse.Namespace) -> int:
    fps = setting(args, "sampling.fps")
    try:
        truth = GroundTruth.load(Path(args.truth))
    except TruthError as exc:
        raise CliError(str(exc)) from exc
    info = probe_movie(Path(args.movie))
    if truth.size and info.width and truth.size != (info.width, info.height):
        raise CliError(f"{args.truth} is for a {truth.size[0]}x{truth.size[1]} video but "
                       f"{args.movie} is {info.width}x{info.height}")
    folder = ensure_results(Path(args.movie), output_root(args), fps, args.rerun)
    try:
        score = evaluate_stored(folder.published(), truth)
    except TruthError as exc:
        raise CliError(str(exc)) from exc
    if args.json == "-":
        print(score.to_json())
        return 0
    movie = f"{folder.key} ({Path(args.movie).resolve()})"
    print(format_table(score, [("movie", printable(movie)), ("truth", printable(args.truth))]))
    if args.json:
        Path(args.json).write_text(score.to_json() + "\n")
    return 0


def ensure_results(movie: Path, root: OutputRoot, fps: float,
                   rerun: bool = False) -> MovieFolder:
    """The folder of the movie with people found at `fps`: the published result when it was
    sampled at this rate, else a `moviefaces run` with its defaults (the product as shipped;
    the run itself recomputes only what is out of date)."""
    from . import build_parser

    folder = root.folder(register(movie, root))
    published = folder.published_generation() is not None
    runs = folder.published().stage_runs() if published else {}
    sampled = runs["frames"].settings.get("fps") if "frames" in runs else None
    if rerun or not published or sampled != fps:
        args = build_parser().parse_args(
            ["run", str(movie), "--output-dir", str(root.path), "--fps", repr(fps)])
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the scores
            args.func(args)
    return folder
