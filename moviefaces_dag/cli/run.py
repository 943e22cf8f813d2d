"""`moviefaces run MOVIE`: every asset for one movie, in-process, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..clustering import ALGORITHMS, DEFAULT_ALGORITHM
from ..run_health import HOST_TAG, fail_dead_runs, this_host
from ..store import MovieBusyError, MovieFolder
from .common import (
    CliError,
    add_movie_arguments,
    dagster_instance,
    output_root,
    printable,
    register,
)
from .face_models import add_face_model_arguments, face_analyzer_config
from .interrupts import Interrupted, sigterm_as_interrupt


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
    parser.add_argument("--force", action="store_true",
                        help="redo every stage, also those that are up to date")
    add_face_model_arguments(parser)
    parser.set_defaults(func=run_movie)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def run_movie(args: argparse.Namespace) -> int:
    from ..definitions import default_resources
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
    clustering = {"similarity_threshold": args.similarity_threshold}
    if args.clustering:
        clustering["algorithm"] = args.clustering
    resources = {
        **default_resources(),
        "store": MovieStoreResource(output_dir=str(root.path)),
        "sampling": SamplingResource(fps=args.fps, duration=args.duration),
        "face_analyzer": FaceAnalyzerResource(**face_analyzer_config(args)),
        "clustering": ClusteringResource(**clustering),
        "progress": TqdmProgress(),
    }
    instance = dagster_instance(root.path)
    dead = fail_dead_runs(instance)
    if dead:
        print(f"moviefaces: {len(dead)} earlier run(s) had died; marked failed, their face "
              "model slots freed", file=sys.stderr)
    try:
        with sigterm_as_interrupt(), \
                folder.writing("moviefaces run"):
            # This process is the movie's one writer for the whole run; the stages it runs
            # take the same lock again.
            ran = run_stages(instance, resources, folder, args.force)
    except MovieBusyError as exc:
        raise CliError(f"{exc}; wait for it to finish or stop it") from exc
    except Interrupted as exc:
        print(f"moviefaces: interrupted ({exc}); the previous results of {printable(key)} are "
              "kept", file=sys.stderr)
        return exc.exit_status
    print_summary(folder, time.monotonic() - started, ran)
    return 0


def run_stages(instance, resources: dict, folder: MovieFolder, force: bool) -> list[str]:
    """Refresh the movie's identity, then run the stages that are out of date (all with
    `force`), publishing the result; return the stages that ran."""
    from ..definitions import code_versions, versioned_assets
    from ..stale import CHAIN, out_of_date

    assets = versioned_assets(resources)
    execute(instance, assets, resources, folder.key, ["movie"])
    with folder.writing("moviefaces run") as draft:
        missing = set(draft.db.stale_stages())
        if folder.published_generation() is None:
            missing.add("movie_report")
    todo = list(CHAIN[1:]) if force else out_of_date(instance, folder.key,
                                                      code_versions(resources), missing)
    if todo:
        execute(instance, assets, resources, folder.key, todo)
    return todo


def execute(instance, assets, resources: dict, key: str, stages: list[str]) -> None:
    from dagster import AssetSelection, materialize

    result = materialize(
        assets,
        selection=AssetSelection.assets(*stages),
        partition_key=key,
        instance=instance,
        resources=resources,
        tags={HOST_TAG: this_host()},
        # The failure is reported once, as one line, by CliError; not as a log dump.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        raise_on_error=False,
    )
    if not result.success:
        if any(e.event_type_value == "RUN_CANCELED" for e in result.all_events) or \
                interrupted(result):
            raise KeyboardInterrupt
        raise CliError(failure_message(result))


def interrupted(result) -> bool:
    return any(e.event_type_value == "STEP_FAILURE"
               and e.step_failure_data.error is not None
               and "DagsterExecutionInterruptedError" in (e.step_failure_data.error.cls_name or "")
               for e in result.all_events)


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


def print_summary(folder: MovieFolder, elapsed: float, ran: list[str]) -> None:
    db = folder.published()
    if ran:
        print(f"stages run:     {', '.join(ran)}")
    else:
        print("up to date:     nothing to run (use --force to redo every stage)")
    stats = {stage: run.stats for stage, run in db.stage_runs().items()}
    people = db.people()
    print(f"movie:          {printable(db.movie().path)} (partition {printable(folder.key)})")
    print(f"elapsed:        {elapsed:.1f} s")
    print(f"frames sampled: {stats['frames']['frames']}")
    print(f"faces detected: {stats['face_detections']['faces']}")
    print(f"faces embedded: {stats['face_embeddings']['faces']}")
    print(f"people found:   {len(people)}")
    for number, person in enumerate(people[:10], start=1):
        print(f"  person {number:>3}: {person.face_count} faces")
    print(f"report:         {folder.report_path.absolute().as_uri()}")
