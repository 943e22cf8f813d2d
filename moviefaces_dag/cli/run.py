"""`moviefaces run MOVIE [MOVIE ...]` or `--all`: every stage that is out of date for each
movie, in-process, with a progress bar, then its summary."""

from __future__ import annotations

import argparse
import builtins
import sys
import time
from pathlib import Path

from ..core.words import plural, rate_text
from ..defs.run_health import HOST_TAG, fail_dead_runs, this_host
from ..store import MovieBusyError, MovieFolder
from .common import (
    EXPECTED_FAILURES,
    INSTANCE_FAILURES,
    KEPT,
    CliError,
    add_setting,
    dagster_instance,
    event_log_complaints_held,
    instance_failure,
    output_root,
    printable,
    register,
    setting,
    shared_root,
    unstored_logs_warning,
)
from .face_models import add_face_model_arguments, face_analyzer_config
from .interrupts import Interrupted, sigterm_as_interrupt
from .waiting import watching_slots


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run what is out of date for movies and write reports")
    parser.add_argument("movies", nargs="*", metavar="MOVIE", help="movie files")
    parser.add_argument("--all", action="store_true",
                        help="every movie registered in the output folder")
    add_setting(parser, "store.output_dir")
    for key in ("sampling.fps", "sampling.duration", "clustering.similarity_threshold",
                "clustering.algorithm"):
        add_setting(parser, key)
    parser.add_argument("--farm", action="store_true",
                        help="submit each movie's run to the farm's run queue ($DAGSTER_HOME's "
                             "instance) and follow it, instead of running it here")
    parser.add_argument("--force", action="store_true",
                        help="redo every stage, also those that are up to date")
    add_face_model_arguments(parser)
    parser.set_defaults(func=run_movies)


def run_movies(args: argparse.Namespace) -> int:
    """Each movie in turn; one that fails is reported in one line and the others go on."""
    if args.farm:
        return run_on_farm_all(args)
    root = output_root(args)
    if args.all and args.movies:
        raise CliError("give movie files or --all, not both")
    movies = [row.path for row in root.movies().values()] if args.all else args.movies
    if not movies:
        raise CliError("no movie to run: give movie files, or --all for every registered one")
    failed = 0
    for movie in movies:
        try:
            status = run_movie(args, root, movie)
        except EXPECTED_FAILURES as exc:
            if len(movies) == 1 or args.debug:
                raise
            print(f"moviefaces: error: {printable(str(exc))}", file=sys.stderr)
            status = 1
        if status > 1:  # interrupted: stop here
            return status
        failed += status
    return 1 if failed else 0


def run_on_farm_all(args: argparse.Namespace) -> int:
    """--farm: each movie's run through the queue, one after another, followed to its end."""
    from .queue import run_on_farm

    if args.all or args.force or not args.movies:
        raise CliError("--farm runs the movie files given (not --all or --force: launch "
                       "those as a backfill from the UI)")
    root = shared_root(args) or output_root(args)
    failed = 0
    for movie in args.movies:
        status = run_on_farm(movie, root)
        if status > 1:
            return status
        failed += status
    return 1 if failed else 0


def run_movie(args: argparse.Namespace, root, movie: str) -> int:
    from ..core.progress import TerminalProgress
    from ..definitions import default_resources
    from ..defs.resources import (
        ClusteringResource,
        FaceAnalyzerResource,
        MovieStoreResource,
        SamplingResource,
    )

    started = time.monotonic()
    resources = {
        **default_resources(),
        "sampling": SamplingResource(fps=setting(args, "sampling.fps"),
                                     duration=setting(args, "sampling.duration")),
        "face_analyzer": FaceAnalyzerResource(**face_analyzer_config(args)),
        "clustering": ClusteringResource(
            algorithm=setting(args, "clustering.algorithm"),
            similarity_threshold=setting(args, "clustering.similarity_threshold")),
        "progress": TerminalProgress(),
    }
    key = register(movie, root)
    folder = root.folder(key)
    resources["store"] = MovieStoreResource(output_dir=str(root.path), scratch_dir=None)
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
    from ..defs.stale import SOURCES, STAGES, decisions_read, library_out_of_date, out_of_date
    from ..people.decisions import Decisions

    assets = versioned_assets(resources)
    execute(instance, assets, resources, folder.key, list(SOURCES))
    with folder.writing("moviefaces run") as draft:
        missing = set(draft.db.stale_stages()) | draft.stages_missing_files()
        if folder.published_generation() is None:
            missing.add("movie_report")
    todo = list(STAGES) if force else out_of_date(instance, folder.key,
                                                   code_versions(resources), missing)
    if todo:
        execute(instance, assets, resources, folder.key, todo)
    if decisions_read(instance, folder.key) != Decisions(folder.path).digest():
        # A decision made while this run went on: group again with it (no models run).
        todo = [*dict.fromkeys([*todo, "face_clusters", "movie_report"])]
        execute(instance, assets, resources, folder.key,
                ["people_decisions", "face_clusters", "movie_report"])
    if todo or library_out_of_date(instance, folder.key):
        execute(instance, assets, resources, None, ["library_decisions", "library"])
    return todo


def execute(instance, assets, resources: dict, key: str | None, stages: list[str]) -> None:
    from dagster import AssetSelection, materialize

    from ..defs.assets.launch import launch_tags
    from ..defs.assets.steps import NO_RETRIES_TAG

    home = Path(instance.root_directory)
    try:
        # says what a waiting run waits for; a full instance disk is told once, by our line
        with watching_slots(instance) as watch_tags, event_log_complaints_held() as held:
            result = materialize(
                assets,
                selection=AssetSelection.assets(*stages),
                partition_key=key,
                instance=instance,
                resources=resources,
                # The user is waiting: no retries with backoff (they are for farms); Ctrl-C
                # stops.
                tags={HOST_TAG: this_host(), NO_RETRIES_TAG: "off", **launch_tags(resources),
                      **watch_tags},
                # The failure is reported once, as one line, by CliError; not as a log dump.
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                raise_on_error=False,
            )
    except INSTANCE_FAILURES as exc:
        raise instance_failure(exc, home, "could not record the run") from exc
    if not result.success:
        if any(e.event_type_value == "RUN_CANCELED" for e in result.all_events) or \
                interrupted(result):
            raise KeyboardInterrupt
        raise CliError(failure_message(result, home))
    if held:
        print(unstored_logs_warning(held, home), file=sys.stderr)


def interrupted(result) -> bool:
    """Whether a step, or the run between steps (waiting for a slot), failed because the run was
    interrupted (the interrupt may be the cause of the final Failure that assets/steps.py
    raises)."""
    for event in result.all_events:
        if event.event_type_value == "PIPELINE_FAILURE":  # the run's: interrupted while waiting
            error = event.event_specific_data.error
        elif event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
        else:
            continue
        while error is not None:
            if (error.cls_name or "") in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
                return True
            error = error.cause
    return False


# Dagster's wrappers around the error a step raised.
WRAPPERS = ("Failure", "RetryRequested")


def failure_message(result, home: Path) -> str:
    """The error the first failed step raised, under Dagster's wrappers: the user's actual
    problem, one line (ours name the file; an error of the file system says what is kept; one
    of the instance in `home` names it)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            while error.cause is not None and ((error.cls_name or "").startswith("Dagster")
                                               or error.cls_name in WRAPPERS):
                error = error.cause
            lines = (error.message or "").strip().splitlines()
            message = lines[0] if lines else "a step failed"
            prefix, _, rest = message.partition(": ")
            # Drop the exception's class name ("moviefaces_dag.media.video.MovieError: ...").
            message = rest if rest and " " not in prefix else message
            # SQLAlchemy's ("sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) disk
            # I/O error"): the instance's own storage
            if message.startswith("(sqlite3."):
                return str(instance_failure(message, home, "could not record the run"))
            if isinstance(getattr(builtins, error.cls_name or "", None), type) and \
                    issubclass(getattr(builtins, error.cls_name), OSError):
                message += KEPT
            return message
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
    frames = stats["frames"]
    asked = db.stage_runs()["frames"].settings.get("fps")
    rate = frames.get("rate", asked)
    every = f", every frame: the movie has no more ({asked:g} asked)" if rate < asked else ""
    print(f"frames sampled: {frames['frames']} ({rate_text(rate)}{every})")
    if "damage" in frames:
        print(f"moviefaces: warning: {printable(frames['damage'])}", file=sys.stderr)
    print(f"faces detected: {stats['face_detections']['faces']}")
    print(f"faces embedded: {stats['face_embeddings']['faces']}")
    print(f"people found:   {len(people)}")
    for number, person in enumerate(people[:10], start=1):
        print(f"  person {number:>3}: {plural(person.face_count, 'face')}")
    print(f"report:         {folder.report_path.absolute().as_uri()}")
