"""`moviefaces run --farm`: each movie's run goes to the farm instance's run queue, as from the UI
or `dagster job launch`, and this command only follows it (its steps, where they ran, the
report, the exit status). The queue's limits hold (never two runs of one movie, the face_models
pool), the daemon launches the run, the workers do the steps, and closing the shell or Ctrl-C
stops the following, never the run."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..defs.partitions import MOVIES_PARTITION
from ..store import OutputRoot
from ..store.folder import REPORT_NAME
from ..store.shared import SharedRoot
from .common import CliError, dagster_instance, printable, register

CODE_LOCATION = "moviefaces_dag.definitions"
JOB = "process_movie"
POLL_SECONDS = 1.0
FARM_HOME = ("--farm submits to the farm's run queue: set DAGSTER_HOME to the folder of the "
             "farm's dagster.yaml (deploy/farm)")
# Queued this long with nothing launching it: most likely no daemon runs on this instance.
NO_DAEMON_SECONDS = 60


def run_on_farm(movie: Path | str, root: OutputRoot | SharedRoot) -> int:
    """Register the movie, submit its run to the queue and follow it; the exit status."""
    if not os.environ.get("DAGSTER_HOME"):
        raise CliError(FARM_HOME)
    instance = dagster_instance(Path("."))
    if not _queued(instance):
        raise CliError(f"{FARM_HOME} (this instance has no run queue)")
    key = register(movie, root)
    run_id = submit(instance, key)
    print(f"submitted:      run {run_id} of {printable(key)} to the farm's queue")
    try:
        status = follow(instance, run_id)
    except KeyboardInterrupt:
        print(f"moviefaces: stopped following; run {run_id} goes on (the UI or "
              f"`dagster run list` shows it)", file=sys.stderr)
        return 130
    if status == "SUCCESS":
        print(f"report:         {report_location(root, key)}")
        return 0
    print(f"moviefaces: error: run {run_id} of {printable(key)} ended {status.lower()}"
          f"{failure(instance, run_id)}", file=sys.stderr)
    return 1


def _queued(instance) -> bool:
    from dagster._core.run_coordinator import QueuedRunCoordinator

    return isinstance(instance.run_coordinator, QueuedRunCoordinator)


def submit(instance, key: str) -> str:
    """The movie's run of the job, created from the code location (so it carries its code
    versions and executor) and submitted to the instance's run coordinator; its id."""
    from dagster._cli.job import execute_launch_command
    from dagster_shared.cli import WorkspaceOpts

    if not instance.has_dynamic_partition(MOVIES_PARTITION, key):
        raise CliError(f"{key} is not a partition of this instance")
    with _code_server_output_aside():
        run = execute_launch_command(
            instance=instance, workspace_opts=WorkspaceOpts(module_name=(CODE_LOCATION,)),
            job_name=JOB, tags=json.dumps({"dagster/partition": key}))
    return run.run_id


@contextmanager
def _code_server_output_aside() -> Iterator[None]:
    """The code location's server, a child process that loads the definitions, logs to the
    terminal it inherits: give it a file instead, shown only if the submission fails."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            log.seek(0)
            sys.stderr.write(log.read()[-4000:].decode(errors="replace"))
            raise
        _restore(saved)


def _restore(saved: list[int]) -> None:
    for fd, copy in zip((1, 2), saved, strict=True):
        os.dup2(copy, fd)
        os.close(copy)


# What a follower is told of, and how.
SHOWN = {"STEP_START": "started", "STEP_SUCCESS": "done", "STEP_FAILURE": "failed",
         "STEP_UP_FOR_RETRY": "failed; retried", "STEP_RESTARTED": "restarted"}
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def follow(instance, run_id: str) -> str:
    """Print the run's progress until it ends; its final status's name."""
    cursor, queued_since, said = None, time.monotonic(), ""
    workers: dict[str, str] = {}
    while True:
        run = instance.get_run_by_id(run_id)
        status = run.status.value
        if status != said and status in ("QUEUED", "STARTING", "STARTED"):
            print(f"run:            {status.lower()}", flush=True)
            said = status
        if status == "QUEUED" and time.monotonic() - queued_since > NO_DAEMON_SECONDS:
            print("moviefaces: warning: still queued after "
                  f"{NO_DAEMON_SECONDS} s; is `dagster-daemon run` running?", file=sys.stderr)
            queued_since = float("inf")
        records = instance.get_records_for_run(run_id, cursor=cursor)
        cursor = records.cursor
        for record in records.records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            worker = _worker(event)
            if worker:
                workers[event.step_key] = worker
            kind = event.event_type_value
            if kind in SHOWN and event.step_key:
                where = f" on {workers[event.step_key]}" if event.step_key in workers else ""
                print(f"step:           {event.step_key} {SHOWN[kind]}{where}", flush=True)
        if status in FINISHED and not records.has_more:
            return status
        time.sleep(POLL_SECONDS)


def _worker(event: Any) -> str | None:
    """The Celery worker that took a step, from dagster-celery's engine event."""
    data = event.engine_event_data if event.event_type_value == "ENGINE_EVENT" else None
    entry = data.metadata.get("Celery worker") if data else None
    return str(entry.value).split("@")[0] if entry is not None else None


def failure(instance, run_id: str) -> str:
    """': ' and the first failed step's error, one line, or nothing."""
    from dagster import DagsterEventType

    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        error = record.dagster_event.step_failure_data.error
        while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
            error = error.cause
        lines = (error.message or "").strip().splitlines()
        if lines:
            return f" ({record.dagster_event.step_key}): {printable(lines[0])}"
    return ""


def report_location(root: OutputRoot | SharedRoot, key: str) -> str:
    if isinstance(root, SharedRoot):
        remote = root.remote(key, REPORT_NAME)
        return remote if "://" in remote else Path(remote).absolute().as_uri()
    return root.folder(key).report_path.absolute().as_uri()
