"""One settings source for every machine, the executors it chooses, and what is retried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from farm_runs import machine

from moviefaces_dag.core.settings import SettingError
from moviefaces_dag.definitions import build_definitions, versioned_assets
from moviefaces_dag.defs.assets.launch import VERSIONS_TAG, launch_tags
from moviefaces_dag.defs.executors import (
    celery_config,
    farm_executor,
    local_executor,
    process_executor,
)


def moviefaces(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *args],
                          capture_output=True, text=True, env={**os.environ, **env},
                          timeout=300)


@pytest.fixture()
def registered(tmp_path: Path, farm_movies: list[Path]) -> tuple[dict, str, dg.DagsterInstance]:
    resources = machine(str(tmp_path / "out"), None)
    key = resources["store"].registry().register(farm_movies[1])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("movies", [key])
    return resources, key, instance


def run(resources: dict, key: str, instance: dg.DagsterInstance, assets: list[str],
        tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    return dg.materialize(versioned_assets(resources), selection=dg.AssetSelection.assets(*assets),
                          partition_key=key, instance=instance, resources=resources, tags=tags,
                          raise_on_error=False)


def test_a_machine_with_other_settings_refuses_the_step(registered) -> None:
    resources, key, instance = registered
    launched = json.loads(launch_tags(resources)[VERSIONS_TAG])
    assert run(resources, key, instance, ["movie", "frames"], launch_tags(resources)).success

    # The launching machine sampled 2 frames a second; this one would sample 1.
    other = {**resources, "sampling": resources["sampling"].model_copy(update={"fps": 2.0})}
    launched_elsewhere = {VERSIONS_TAG: json.dumps(
        {**launched, "frames": json.loads(launch_tags(other)[VERSIONS_TAG])["frames"]})}
    result = run(resources, key, instance, ["frames"], launched_elsewhere)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert "frames: this machine" in message and "$MOVIEFACES_SETTINGS" in message
    assert len(message.strip().splitlines()) == 1
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_what_the_user_must_fix_is_not_retried(registered) -> None:
    resources, key, instance = registered
    # Detection before any frames: the store says so; retrying would only wait.
    result = run(resources, key, instance, ["face_detections"], {})
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert "has no sampled frames" in str(result.all_events)


def test_model_steps_and_the_library_retry_with_backoff() -> None:
    defs = build_definitions()
    for name in ("face_detections", "face_embeddings", "library"):
        policy = defs.resolve_assets_def(name).op.retry_policy
        assert policy is not None and policy.max_retries >= 2 and policy.backoff is not None
    assert defs.resolve_assets_def("frames").op.retry_policy is None


def test_the_executor_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert farm_executor() is local_executor  # the run's process, recording the host
    monkeypatch.setenv("MOVIEFACES_EXECUTOR", "processes")
    assert farm_executor() is process_executor
    monkeypatch.setenv("MOVIEFACES_EXECUTOR", "celery")
    with pytest.raises(SettingError, match="farm.celery_broker is unset"):
        farm_executor()
    monkeypatch.setenv("MOVIEFACES_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
    assert farm_executor().name == "celery"
    options = celery_config()["config_source"]  # what `moviefaces worker` starts with too
    assert options["task_acks_late"] and options["task_reject_on_worker_lost"]
    monkeypatch.setenv("MOVIEFACES_EXECUTOR", "kubernetes")
    assert farm_executor().name == "k8s"
    monkeypatch.setenv("MOVIEFACES_EXECUTOR", "slurm")
    with pytest.raises(SettingError, match="one of in_process, processes, celery, kubernetes"):
        farm_executor()


def test_settings_say_where_each_value_came_from(tmp_path: Path) -> None:
    settings = tmp_path / "farm.toml"
    settings.write_text('[farm]\nexecutor = "celery"\ncelery_broker = "amqp://mq:5672//"\n\n'
                        '[store]\noutput_dir = "s3://films/moviefaces"\n')
    done = moviefaces("settings", env={"MOVIEFACES_SETTINGS": str(settings),
                                       "MOVIEFACES_SCRATCH_DIR": str(tmp_path / "scratch")})
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert "s3://films/moviefaces" in lines["store.output_dir"]
    assert str(settings) in lines["store.output_dir"] and str(settings) in lines["farm.executor"]
    assert "$MOVIEFACES_SCRATCH_DIR" in lines["store.scratch_dir"]
    assert "default" in lines["store.lease_seconds"]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "farm.celery_broker is not set"),
    ({"MOVIEFACES_CELERY_BROKER": "amqp://127.0.0.1:1//", "DAGSTER_HOME": ""},
     "set DAGSTER_HOME"),
    ({"MOVIEFACES_OUTPUT_DIR": "gopher://films"}, "store.output_dir must be a folder path"),
])
def test_worker_mistakes_are_one_line(env: dict[str, str], expected: str) -> None:
    done = moviefaces("worker", env={"MOVIEFACES_CELERY_BROKER": "", **env})
    assert done.returncode == 1
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
