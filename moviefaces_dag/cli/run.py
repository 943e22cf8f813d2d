"""`moviefaces run MOVIE`: every asset for one movie, in-process, with a progress bar."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ..clustering import ALGORITHMS, DEFAULT_ALGORITHM
from ..store import MovieBusyError, MovieFolder
from .common import CliError, add_movie_arguments, dagster_instance, output_root, register
from .face_models import add_face_model_arguments, face_analyzer_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run every stage for one movie and write its report")
    add_movie_arguments(parser)
    parser.add_argument("--fps", type=_positive, default=1.0,
                        help="frames sampled per second; fractions allowed (0.5 = one every 2 s)")
    parser.add_argument("--duration", type=_positive, default=None,
                        help="stop sampling at this movie time in seconds (default: whole movie)")
    parser.add_argument("--similarity-threshold", type=float, default=None,
                        help="cosine similarity joining two faces (default: per recogniser)")
    parser.add_argument("--clustering", choices=ALGORITHMS, default=None,
                        help=f"how faces are grouped into people (default: {DEFAULT_ALGORITHM})")
    add_face_model_arguments(parser)
    parser.set_defaults(func=run_movie)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def run_movie(args: argparse.Namespace) -> int:
    from dagster import AssetSelection, materialize

    from ..definitions import default_resources, versioned_assets
    from ..progress import TqdmProgress
    from ..resources import (
        ClusteringResource,
        FaceAnalyzerResource,
        MovieStoreResource,
        SamplingResource,
    )

    started = time.monotonic()
    root = output_root(args.output_dir)
    key = register(Path(args.movie), root)
    folder = root.folder(key)
    analyzer = face_analyzer_config(args)
    clustering = {"similarity_threshold": args.similarity_threshold}
    if args.clustering:
        clustering["algorithm"] = args.clustering
    resources = {
        **default_resources(),
        "store": MovieStoreResource(output_dir=str(root.path)),
        "sampling": SamplingResource(fps=args.fps, duration=args.duration),
        "face_analyzer": FaceAnalyzerResource(**analyzer),
        "clustering": ClusteringResource(**clustering),
        "progress": TqdmProgress(),
    }
    instance = dagster_instance(root.path)
    # This process is the movie's one writer for the whole run; the stages it runs take the
    # same lock again.
    try:
        with folder.writing(f"moviefaces run (pid {os.getpid()})"):
            result = materialize(
                versioned_assets(resources),
                selection=AssetSelection.groups("moviefaces"),
                partition_key=key,
                instance=instance,
                resources=resources,
                # The failure is reported once, as one line, by CliError; not as a log dump.
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                raise_on_error=False,
            )
    except MovieBusyError as exc:
        raise CliError(f"{exc}; wait for it to finish or stop it") from exc
    if not result.success:
        raise CliError(failure_message(result))
    print_summary(folder, time.monotonic() - started)
    return 0


def failure_message(result) -> str:
    """The innermost error of the first failed step: the user's actual problem, one line."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            lines = (error.message or "").strip().splitlines()
            message = lines[0] if lines else "a step failed"
            prefix, _, rest = message.partition(": ")
            # Drop the exception's class name ("moviefaces_dag.video.MovieError: ...").
            return rest if rest and " " not in prefix else message
    return "the run failed"


def print_summary(folder: MovieFolder, elapsed: float) -> None:
    db = folder.published()
    stats = {stage: run.stats for stage, run in db.stage_runs().items()}
    people = db.people()
    print(f"movie:          {db.movie().path} (partition {folder.key})")
    print(f"elapsed:        {elapsed:.1f} s")
    print(f"frames sampled: {stats['frames']['frames']}")
    print(f"faces detected: {stats['face_detections']['faces']}")
    print(f"faces embedded: {stats['face_embeddings']['faces']}")
    print(f"people found:   {len(people)}")
    for number, person in enumerate(people[:10], start=1):
        print(f"  person {number:>3}: {person.face_count} faces")
    print(f"report:         {folder.report_path.absolute().as_uri()}")
