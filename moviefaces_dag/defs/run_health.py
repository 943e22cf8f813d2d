"""Runs whose process died: found, marked failed, and their pool slots freed.

A run killed with -9 (or whose machine rebooted) stays STARTED in Dagster's storage and keeps its
`face_models` slots, so every later run would wait forever. Every run records the process
executing it in an engine event ("pid"); on the host that started it, a process that no longer
exists, or a newer one with the same pid, means the run is dead. The daemon's run monitoring asks
`LocalRunLauncher` (launcher.py) this for runs it launched; `moviefaces run` asks it at its start,
and again whenever its run waits for a pool slot, for every run of this host, so a laptop without
the daemon never stays stuck either.

Which host a run's process is on is the `moviefaces/host` tag. `LocalRunLauncher` and `moviefaces
run` set it when they start a run; the project's executor (executors.py) sets it from inside the
run's process before any step, so runs started any other way (`dagster asset materialize`, a job
executed in a script) carry it too. A run without the tag is never failed: its process may be on
another machine, where a missing pid here proves nothing.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import time

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from ..core.processes import process_alive

HOST_TAG = "moviefaces/host"
_PR_SET_PDEATHSIG = 1


def this_host() -> str:
    return socket.gethostname()


# The pids of the processes executing a run's plan, in those processes: a step in one of them
# is in its run's own process (the in-process executor), not a step process.
_run_processes: set[int] = set()


def record_host(instance: DagsterInstance, run_id: str) -> None:
    """Tag the run with this host, from the process that executes it (a launcher's tag may name
    the machine that launched it, which is the same one for local runs)."""
    _run_processes.add(os.getpid())
    instance.add_run_tags(run_id, {HOST_TAG: this_host()})


def worker_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid of the process that executes the run (its first engine event naming one)."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        data = record.event_log_entry.dagster_event.engine_event_data
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None:
            return int(pid.value)
    return None




def run_is_dead(instance: DagsterInstance, run: DagsterRun) -> bool:
    record = instance.get_run_record_by_id(run.run_id)
    pid = worker_pid(instance, run.run_id)
    if record is None or pid is None:
        return False
    since = record.start_time or record.create_timestamp.timestamp()
    return not process_alive(pid, since)


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark this host's started runs whose process is gone as failed and free their slots;
    return their ids. Whoever started them: the host tag says where their process runs."""
    runs = instance.get_runs(filters=RunsFilter(
        statuses=[DagsterRunStatus.STARTED], tags={HOST_TAG: this_host()}))
    dead = [run for run in runs if run_is_dead(instance, run)]
    for run in dead:
        instance.report_run_failed(
            run, f"its process ended without finishing (found {time.strftime('%H:%M:%S')})")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in dead]


def end_with_parent() -> None:
    """Make this process end (SIGTERM, so its step stops cleanly) when its parent does, if it is
    a step process that Dagster's multiprocess executor started: killing a run's process must
    not leave its steps running on (Linux; elsewhere a no-op). Not in the run's own process (the
    in-process executor's): its parent is the code server, whose thread that started it may end
    before the run does."""
    parent = multiprocessing.parent_process()
    if parent is None or os.getpid() in _run_processes or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent.pid:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
