"""While `moviefaces run` executes, say at once what its run waits for, and let Ctrl-C and
SIGTERM stop it while it waits.

Dagster waits for a pool slot (`face_models`) silently and, executing in this process, only
notes an interrupt for a later checkpoint that a waiting run never reaches: the command looked
hung and ignored SIGTERM. A thread watches the run: when it waits for a slot, the dead runs of
this host are failed first (their slots freed, run_health.py); if it still waits, one line names
the pool and the runs holding it; an interrupt while it waits stops the run at once (nothing is
executing then, so nothing is cut in half).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._utils.interrupts import check_captured_interrupt

from ..defs.run_health import HOST_TAG, fail_dead_runs, worker_pid

SESSION_TAG = "moviefaces/cli-session"
POOLS = ("face_models",)
POLL_SECONDS = 0.25
RECHECK_DEAD_SECONDS = 2.0


def holder_text(instance: DagsterInstance, run_id: str) -> str:
    """A run holding a slot, for a person: its id, movie, process and host."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id[:8]} (gone)"
    movie = run.tags.get("dagster/partition", "no movie")
    pid = worker_pid(instance, run_id)
    where = f"pid {pid}" if pid is not None else "no process recorded"
    where += f" on {run.tags[HOST_TAG]}" if HOST_TAG in run.tags else ", host unknown"
    job = "assets" if run.job_name.startswith("__") else run.job_name
    return f"run {run_id[:8]} ({job}, movie {movie}, {where})"


class _Watch:
    def __init__(self, instance: DagsterInstance, session: str):
        self.instance = instance
        self.session = session
        self.main = threading.main_thread().ident
        self.stop = threading.Event()
        self.said: tuple[str, ...] = ()
        self.dead_checked = 0.0
        self.interrupted = False

    def our_runs(self) -> set[str]:
        runs = self.instance.get_runs(filters=RunsFilter(
            tags={SESSION_TAG: self.session}, statuses=[DagsterRunStatus.STARTED]))
        return {run.run_id for run in runs}

    def waiting(self, runs: set[str]) -> tuple[str, list[str], int | None] | None:
        """(pool, the runs holding its slots, its limit) if one of `runs` waits for a slot."""
        for pool in POOLS:
            info = self.instance.event_log_storage.get_concurrency_info(pool)
            if any(step.run_id in runs and step.assigned_timestamp is None
                   for step in info.pending_steps):
                holders = sorted({slot.run_id for slot in info.claimed_slots} - runs)
                return pool, holders, info.limit
        return None

    def poll(self) -> None:
        runs = self.our_runs()
        found = self.waiting(runs) if runs else None
        if found is None:
            return
        pool, holders, limit = found
        if time.monotonic() - self.dead_checked > RECHECK_DEAD_SECONDS:
            self.dead_checked = time.monotonic()
            dead = fail_dead_runs(self.instance)
            if dead:
                print(f"moviefaces: {len(dead)} earlier run(s) had died; marked failed, their "
                      "face model slots freed", file=sys.stderr, flush=True)
                return
        if check_captured_interrupt() and not self.interrupted:
            self.interrupt_main()
            return
        line = tuple(holders)
        if line != self.said:
            self.said = line
            held = "; ".join(holder_text(self.instance, run_id) for run_id in holders) \
                or "runs not yet started"
            print(f"moviefaces: waiting for a {pool} slot (pool limit {limit}), held by {held}; "
                  "Ctrl-C stops", file=sys.stderr, flush=True)

    def interrupt_main(self) -> None:
        """Raise KeyboardInterrupt in the main thread, which sleeps in Dagster's wait: the
        exception is set, and a SIGINT wakes the sleep so that it is raised at once."""
        self.interrupted = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.main),
                                                   ctypes.py_object(KeyboardInterrupt))
        signal.pthread_kill(self.main, signal.SIGINT)

    def loop(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the watch is a courtesy: when the instance
                return  # cannot be read (a full disk), the run itself reports the one line


@contextmanager
def watching_slots(instance: DagsterInstance) -> Iterator[dict[str, str]]:
    """Watch the runs started in the block with the tags it yields (add them to the run)."""
    watch = _Watch(instance, f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
    thread = threading.Thread(target=watch.loop, name="moviefaces-slot-watch", daemon=True)
    thread.start()
    try:
        yield {SESSION_TAG: watch.session}
    finally:
        watch.stop.set()
        thread.join(timeout=5)
