"""The code location loads, validates and materializes a partition with Dagster's own API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from moviefaces_dag.definitions import build_definitions, defs
from moviefaces_dag.partitions import MOVIES_PARTITION
from moviefaces_dag.progress import LogProgress
from moviefaces_dag.resources import MovieStoreResource, SamplingResource

REPO = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate() -> None:
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [dagster, "definitions", "validate", "-m", "moviefaces_dag.definitions"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Validation successful" in result.stderr + result.stdout


def test_code_location_has_assets_jobs_and_sensors() -> None:
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} >= {
        "movie", "frames", "face_detections", "face_embeddings", "face_clusters", "movie_report"
    }
    assert defs.resolve_job_def("process_movie")
    assert {s.name for s in defs.sensors} >= {"movie_folder_sensor", "moviefaces_automation"}


def test_materialize_every_asset_for_a_partition(tmp_path: Path, cast_a: Path) -> None:
    store = MovieStoreResource(output_dir=str(tmp_path))
    assert store.root().register(cast_a) == "cast_a"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(MOVIES_PARTITION, ["cast_a"])
    resources = {"store": store, "sampling": SamplingResource(fps=1.0, duration=10),
                 "progress": LogProgress()}
    job_defs = build_definitions(**resources)
    result = job_defs.resolve_job_def("process_movie").execute_in_process(
        partition_key="cast_a", instance=instance
    )
    assert result.success
    report = result.asset_materializations_for_node("movie_report")[0]
    assert Path(report.metadata["path"].value).is_file()
    frames = result.asset_materializations_for_node("frames")[0]
    assert frames.metadata["frames"].value == 10
    assert instance.get_latest_materialization_event(dg.AssetKey("face_clusters"))
