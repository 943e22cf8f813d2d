"""A movie of the watched folder whose run was killed is started again by the folder sensor.

Found by the chaos run (scripts/chaos.py): a run killed with -9 after its `movie` step (or
marked failed by run monitoring) left the movie registered and its `movie` asset materialized,
so the sensor took it for processed, and automation leaves stages that were never materialized
alone: the movie was never published. The sensor now asks for a run of every movie not yet
published, under a new run key after each run that ended without a result (at most
MAX_ATTEMPTS per version of the file). The kill here is real: `moviefaces run` with
MOVIEFACES_FAULT, which sends the step process SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster import AssetKey, DagsterRun, DagsterRunStatus

from moviefaces_dag.definitions import build_definitions
from moviefaces_dag.defs.instance import open_instance
from moviefaces_dag.defs.resources import MovieFolderResource, MovieStoreResource
from moviefaces_dag.defs.sensors import MAX_ATTEMPTS
from moviefaces_dag.pipeline.watch import version_text
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow


def tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, resources: dict,
         cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    context = dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor)
    result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return [], context.cursor
    return list(result.run_requests), result.cursor


def ended(instance: dg.DagsterInstance, key: str, run_key: str) -> None:
    """A run of the sensor's that ended without a result, as run monitoring leaves one."""
    instance.add_run(DagsterRun(
        job_name="process_movie", run_id=str(uuid.uuid4()), status=DagsterRunStatus.FAILURE,
        tags={"dagster/partition": key, "dagster/run_key": run_key,
              "dagster/sensor_name": "movie_folder_sensor"}))


def test_a_movie_whose_run_was_killed_is_started_again(tmp_path: Path, testdata: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, out = tmp_path / "movies", tmp_path / "out"
    folder.mkdir()
    movie = folder / "film.mp4"
    shutil.copy(testdata / "movies" / "cast_b.mp4", movie)
    old = time.time() - 60
    os.utime(movie, (old, old))
    monkeypatch.setenv("DAGSTER_HOME", str(out / "dagster_home"))
    instance = open_instance(out)

    # A real run, killed with -9 right after its frames step: `movie` is materialized.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEFACES_")}
    env.update(MOVIEFACES_FAULT="after:frames", MOVIEFACES_DURATION="3")
    killed = subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", "run", movie,
                             "--output-dir", out], env=env, capture_output=True, text=True,
                            timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "film" in instance.get_materialized_partitions(AssetKey("movie"))
    assert OutputRoot(out).folder("film").published_generation() is None

    resources = {"store": MovieStoreResource(output_dir=str(out)),
                 "movie_folder": MovieFolderResource(folder=str(folder), settle_seconds=10)}
    sensor = build_definitions(**resources).resolve_sensor_def("movie_folder_sensor")
    base = f"new:film:{movie.resolve()}:{version_text(movie)}"
    requests, cursor = tick(sensor, instance, resources, None)
    assert [(r.partition_key, r.run_key) for r in requests] == [("film", base)]

    # Each run of the sensor's that ends without a result is followed by one under a new key,
    # up to MAX_ATTEMPTS; then the movie is left alone (a warning says so).
    for attempt in range(1, MAX_ATTEMPTS + 1):
        ended(instance, "film", requests[0].run_key)
        requests, cursor = tick(sensor, instance, resources, cursor)
        if attempt < MAX_ATTEMPTS:
            assert [r.run_key for r in requests] == [f"{base}:{attempt}"]
    assert requests == []

    # A published movie gets no run, however its earlier runs ended.
    done = subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", "run", movie,
                           "--output-dir", out],
                          env={k: v for k, v in env.items() if k != "MOVIEFACES_FAULT"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert tick(sensor, instance, resources, None)[0] == []
