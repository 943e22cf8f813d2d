"""Never stuck: runs whose process was killed are marked failed and give their pool slots back,
by the next `moviefaces run` and by the real Dagster daemon's run monitoring."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus
from dagster._core.utils import make_new_run_id

from moviefaces_dag.core.faults import ENV as FAULT
from moviefaces_dag.defs.instance import instance_settings
from moviefaces_dag.defs.launcher import LocalRunLauncher
from moviefaces_dag.defs.run_health import HOST_TAG, this_host

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def moviefaces(*args, fault: str | None = None, home: Path | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", FAULT)}
    env.update({FAULT: fault} if fault else {})
    env.update({"DAGSTER_HOME": str(home)} if home else {})
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=600)


def kill_inside_detection(movie: Path, out: Path, home: Path | None = None) -> None:
    done = moviefaces("run", movie, "--duration", "4", "--output-dir", out,
                      fault="during:face_detections", home=home)
    assert done.returncode == -signal.SIGKILL, done.stderr


def slots_held(instance: DagsterInstance) -> int:
    return len(instance.event_log_storage.get_concurrency_info("face_models").claimed_slots)


def started_runs(instance: DagsterInstance) -> list:
    return instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))


def test_killed_runs_never_block_later_runs(tmp_path: Path, testdata: Path):
    """Before, two runs killed inside detection filled the pool (2 slots) for good and every
    later run waited forever. Each `moviefaces run` now first fails this host's dead runs."""
    out = tmp_path / "out"
    movies = [testdata / "movies" / name for name in ("cast_a.mp4", "cast_b.mp4")]
    kill_inside_detection(movies[0], out)
    instance = DagsterInstance.from_config(str(out / "dagster_home"))
    (first,) = started_runs(instance)
    assert slots_held(instance) == 1
    kill_inside_detection(movies[1], out)
    assert instance.get_run_by_id(first.run_id).status == DagsterRunStatus.FAILURE
    (second,) = started_runs(instance)
    assert slots_held(instance) == 1  # the first run's slot was freed, the second holds one
    done = moviefaces("run", movies[0], "--duration", "4", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    assert "1 earlier run(s) had died; marked failed" in done.stderr
    assert instance.get_run_by_id(second.run_id).status == DagsterRunStatus.FAILURE
    assert slots_held(instance) == 0 and not started_runs(instance)


def test_the_launcher_tells_dead_runs_from_live_ones(tmp_path: Path, testdata: Path):
    out = tmp_path / "out"
    kill_inside_detection(testdata / "movies" / "cast_b.mp4", out)
    instance = DagsterInstance.from_config(str(out / "dagster_home"))
    assert isinstance(instance.run_launcher, LocalRunLauncher)  # the project's settings
    (dead,) = started_runs(instance)
    assert instance.run_launcher.check_run_worker_health(dead).status == WorkerStatus.FAILED
    # A run whose process is this test's, which is alive.
    alive = instance.add_run(DagsterRun(job_name="process_movie", run_id=make_new_run_id(),
                                        status=DagsterRunStatus.STARTED,
                                        tags={HOST_TAG: this_host()}))
    instance.report_engine_event("Executing steps in process", alive,
                                 EngineEventData.in_process(os.getpid()))
    assert instance.run_launcher.check_run_worker_health(alive).status == WorkerStatus.RUNNING
    elsewhere = alive.with_tags({HOST_TAG: "another-host"})
    assert instance.run_launcher.check_run_worker_health(elsewhere).status == \
        WorkerStatus.UNKNOWN


def test_the_daemon_marks_a_dead_run_failed_and_frees_its_slots(tmp_path: Path,
                                                                testdata: Path):
    home = tmp_path / "home"
    home.mkdir()
    # The project's settings, polled faster than the 10 s they set so the test is short.
    settings = instance_settings()
    for old, new in (("poll_interval_seconds: 10", "poll_interval_seconds: 2"),
                     ("free_slots_after_run_end_seconds: 10",
                      "free_slots_after_run_end_seconds: 1")):
        assert old in settings
        settings = settings.replace(old, new)
    (home / "dagster.yaml").write_text(settings)
    kill_inside_detection(testdata / "movies" / "cast_b.mp4", tmp_path / "out", home=home)
    instance = DagsterInstance.from_config(str(home))
    (dead,) = started_runs(instance)
    assert slots_held(instance) == 1
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w",
         str(REPO / "workspace.yaml")],
        cwd=REPO, env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while (instance.get_run_by_id(dead.run_id).status != DagsterRunStatus.FAILURE
               or slots_held(instance)):
            assert daemon.poll() is None, "the daemon stopped"
            assert time.monotonic() < deadline, "the dead run was not marked failed in 2 min"
            time.sleep(1)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
