"""Issue 25: `moviefaces run` on an instance that other processes share never hangs silently.

Runs killed outside the CLI (`dagster asset materialize`, with their process group) are found
and freed by the next `moviefaces run`; a run that waits for a pool slot held by a live run says
so within 5 s and stops at once on SIGTERM (143) or Ctrl-C (130). Real processes, real signals.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from moviefaces_dag.core.faults import ENV as FAULT
from moviefaces_dag.defs.run_health import HOST_TAG, this_host

pytestmark = pytest.mark.slow
DAGSTER = Path(sys.executable).with_name("dagster")


class Process:
    """A subprocess in its own process group whose stderr lines are kept with their times."""

    def __init__(self, args: list, home: Path, out: Path, fault: str | None = None):
        env = {k: v for k, v in os.environ.items() if k != FAULT}
        env.update({"DAGSTER_HOME": str(home), "MOVIEFACES_OUTPUT_DIR": str(out)})
        env.update({FAULT: fault} if fault else {})
        self.popen = subprocess.Popen(list(map(str, args)), env=env, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
        self.lines: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def line_with(self, text: str, timeout: float) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [(at, line) for at, line in self.lines if text in line]
            if found:
                return found[0]
            assert self.popen.poll() is None or self.reader.is_alive(), self.text()
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} in {timeout:g} s: {self.text()}")

    def wait(self, timeout: float) -> int:
        code = self.popen.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


def moviefaces(*args, home: Path, out: Path, fault: str | None = None) -> Process:
    return Process([sys.executable, "-m", "moviefaces_dag.cli", *args], home, out, fault)


def claimed(instance: DagsterInstance) -> list:
    return instance.event_log_storage.get_concurrency_info("face_models").claimed_slots


def waiting_steps(instance: DagsterInstance) -> list:
    pending = instance.event_log_storage.get_concurrency_info("face_models").pending_steps
    return [step for step in pending if step.assigned_timestamp is None]


def wait_until(condition, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.1)
    return time.monotonic()


@pytest.fixture()
def shared(tmp_path: Path, testdata: Path):
    """(DAGSTER_HOME, output folder, instance) with cast_a and cast_b registered."""
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    for name in ("cast_a", "cast_b"):
        added = moviefaces("add", testdata / "movies" / f"{name}.mp4", home=home, out=out)
        assert added.wait(120) == 0, added.text()
    return home, out, DagsterInstance.from_config(str(home))


def test_runs_killed_outside_the_cli_are_freed_by_it(shared, testdata: Path):
    """Before, two `dagster asset materialize` runs killed with their process group kept both
    `face_models` slots (they had no host tag) and `moviefaces run` hung silently for good."""
    home, out, instance = shared
    runs = [Process([DAGSTER, "asset", "materialize", "-m", "moviefaces_dag.definitions",
                     "--select", "movie,frames,face_detections", "--partition", name],
                    home, out, fault="during:face_detections:STOP")
            for name in ("cast_a", "cast_b")]
    try:
        wait_until(lambda: len(claimed(instance)) == 2, 240, "both runs holding a slot")
    finally:
        for run in runs:
            run.kill_group()
    dead = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    assert len(dead) == 2 and all(run.tags[HOST_TAG] == this_host() for run in dead)
    started = time.monotonic()
    run = moviefaces("run", testdata / "movies" / "cast_a.mp4", "--force", "--duration", "4",
                     home=home, out=out)
    code = run.wait(300)
    assert code == 0, run.text()
    assert "2 earlier run(s) had died; marked failed" in run.text()
    assert "Traceback" not in run.text()
    assert all(instance.get_run_by_id(r.run_id).status == DagsterRunStatus.FAILURE for r in dead)
    assert not claimed(instance)
    print(f"moviefaces run after the killed runs: {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_run_waiting_for_a_slot_says_so_and_stops_on_a_signal(shared, testdata: Path,
                                                                 sig: signal.Signals):
    home, out, instance = shared
    instance.event_log_storage.set_concurrency_slots("face_models", 1)
    # A live run holds the one slot: a `moviefaces run` frozen (SIGSTOP) inside detection.
    holder = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "4",
                        home=home, out=out, fault="during:face_detections:STOP")
    waiter = None
    try:
        wait_until(lambda: len(claimed(instance)) == 1, 240, "the live run holding the slot")
        (slot,) = claimed(instance)
        waiter = moviefaces("run", testdata / "movies" / "cast_a.mp4", "--force", "--duration",
                            "4", home=home, out=out)
        blocked = wait_until(lambda: waiting_steps(instance), 240, "the second run waiting")
        said, line = waiter.line_with("waiting for a face_models slot", timeout=30)
        print(f"waiting line {said - blocked:.2f} s after the run began waiting")
        assert said - blocked < 5, line
        assert f"run {slot.run_id[:8]}" in line and "movie cast_b" in line, line
        time.sleep(1)
        sent = time.monotonic()
        os.kill(waiter.popen.pid, sig)
        code = waiter.wait(timeout=20)
        print(f"{sig.name}: exit {code} after {time.monotonic() - sent:.2f} s")
        assert code == 128 + sig, waiter.text()
        assert time.monotonic() - sent < 5
        after = [text for at, text in waiter.lines if at >= said and text != line]
        assert len(after) == 1 and f"interrupted ({sig.name})" in after[0], waiter.text()
        assert "Traceback" not in waiter.text()
        assert len(claimed(instance)) == 1 and not waiting_steps(instance)
    finally:
        holder.kill_group()
        if waiter is not None:
            waiter.kill_group()
