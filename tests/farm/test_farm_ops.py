"""The farm's operations layer without servers: steps routed to the Celery queue of their kind,
the worker's and health command's mistakes in one line, the health command failing on what does
not answer, and a settings file's integers giving the code versions of a run's config. The
whole farm with these (one box, two workers, the run queue) runs in docs/farm-operations.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from farm_servers import free_port

from moviefaces_dag.core import settings
from moviefaces_dag.core.versions import stage_version
from moviefaces_dag.defs.assets.steps import (
    CELERY_QUEUE_TAG,
    CELERY_QUEUES,
    celery_queue,
    op_tags,
)
from moviefaces_dag.defs.executors import WORKER_OPTIONS
from moviefaces_dag.defs.k8s import FACE_MODEL_STAGES, FACE_MODELS


def moviefaces(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MOVIEFACES_") and k != "DAGSTER_HOME"}
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *args],
                          capture_output=True, text=True, env={**clean, **env}, timeout=300)


@pytest.mark.parametrize("backend", sorted(FACE_MODELS))
def test_only_face_models_on_the_workers_gpu_go_to_the_gpu_queue(backend: str) -> None:
    for stage in ["frames", "face_clusters", "movie_report", *sorted(FACE_MODEL_STAGES)]:
        wanted = "gpu" if stage in FACE_MODEL_STAGES and backend == "onnx" else "cpu"
        assert celery_queue(stage, backend) == wanted


def test_every_asset_step_carries_its_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEFACES_BACKEND", "onnx")
    assert op_tags("face_detections")[CELERY_QUEUE_TAG] == "gpu"
    assert op_tags("frames")[CELERY_QUEUE_TAG] == "cpu"
    from moviefaces_dag.definitions import defs

    queues = {spec.op.tags.get(CELERY_QUEUE_TAG, WORKER_OPTIONS["task_default_queue"])
              for spec in defs.assets if hasattr(spec, "op")}
    assert queues <= set(CELERY_QUEUES) and "cpu" in queues


def test_settings_file_integers_give_the_versions_of_a_runs_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fps = 1` in the file, 1.0 in the run's config (Dagster's float): one code version.
    (They differed, and every farm step refused to run.)"""
    (tmp_path / "s.toml").write_text("[sampling]\nfps = 1\nduration = 8\n")
    for setting in settings.SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv(settings.SETTINGS_FILE_ENV, str(tmp_path / "s.toml"))
    fps, duration = settings.value("sampling.fps"), settings.value("sampling.duration")
    assert (type(fps), type(duration)) == (float, float)
    assert stage_version("frames", {"fps": fps, "duration": duration}) == \
        stage_version("frames", {"fps": 1.0, "duration": 8.0})


def test_worker_refuses_unknown_queues_in_one_line(tmp_path: Path) -> None:
    done = moviefaces("worker", "--queues", "cpu,tpu", DAGSTER_HOME=str(tmp_path),
                      MOVIEFACES_CELERY_BROKER="amqp://u:p@127.0.0.1:1//")
    assert done.returncode == 1
    assert done.stderr.strip() == ("moviefaces: error: --queues cpu,tpu: give cpu or gpu, or "
                                   "both separated by a comma")


def test_health_needs_the_farms_instance() -> None:
    done = moviefaces("farm", "health")
    assert (done.returncode, done.stderr.strip()) == (1, (
        "moviefaces: error: set DAGSTER_HOME to the folder of the farm's dagster.yaml "
        "(deploy/farm)"))


def test_health_names_each_part_that_does_not_answer(tmp_path: Path) -> None:
    """An instance whose daemon never ran, a webserver and a broker that are not there."""
    web, broker = free_port(), free_port()
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = moviefaces("farm", "health", "--webserver", f"http://127.0.0.1:{web}",
                      "--timeout", "1", DAGSTER_HOME=str(tmp_path),
                      MOVIEFACES_CELERY_BROKER=f"amqp://u:p@127.0.0.1:{broker}//")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    assert lines["database"].split()[0] == "ok"
    assert lines["daemon"].split()[0] == "FAIL" and "dagster-daemon run" in lines["daemon"]
    assert lines["webserver"].split()[0] == "FAIL" and str(web) in lines["webserver"]
    assert lines["workers"].split()[0] == "FAIL"
    assert done.stderr.strip() == ("moviefaces: error: the farm is unhealthy: daemon, "
                                   "webserver, workers")
    metrics = moviefaces("farm", "metrics", "--timeout", "1", DAGSTER_HOME=str(tmp_path),
                         MOVIEFACES_CELERY_BROKER=f"amqp://u:p@127.0.0.1:{broker}//")
    assert 'moviefaces_farm_check_ok{check="workers"} 0' in metrics.stdout
    assert 'moviefaces_runs{status="queued"} 0' in metrics.stdout


def test_run_on_the_farm_needs_the_farms_instance(testdata: Path) -> None:
    done = moviefaces("run", "--farm", str(testdata / "movies" / "cast_b.mp4"))
    assert (done.returncode, done.stderr.strip()) == (1, (
        "moviefaces: error: --farm submits to the farm's run queue: set DAGSTER_HOME to the "
        "folder of the farm's dagster.yaml (deploy/farm)"))
