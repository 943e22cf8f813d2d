"""The code location loads, validates and materializes a partition with Dagster's own API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from moviefaces_dag.core.progress import LogProgress
from moviefaces_dag.definitions import build_definitions, defs
from moviefaces_dag.defs.partitions import MOVIES_PARTITION
from moviefaces_dag.defs.resources import MovieStoreResource, SamplingResource

REPO = Path(__file__).resolve().parents[2]


def test_dg_check_defs() -> None:
    """The project is a dg project: `dg check defs` from the repository root."""
    result = subprocess.run([Path(sys.executable).parent / "dg", "check", "defs"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


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
    # The asset checks ran with the materializations, and passed.
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"every_face_has_its_crop": True, "every_face_embedded_at_model_width": True,
                      "no_two_faces_of_one_frame_in_one_person": True,
                      "report_renders_with_every_image": True}
    # Row counts, column schemas and the top people as a table, as the catalog shows them.
    assert frames.metadata["dagster/row_count"].value == 10
    faces = result.asset_materializations_for_node("face_detections")[0].metadata
    assert faces["dagster/row_count"].value == faces["faces"].value > 0
    people = result.asset_materializations_for_node("face_clusters")[0].metadata
    assert people["dagster/row_count"].value == people["people"].value
    top = report.metadata["top_people"].value
    assert [r.data["person"] for r in top.records] == [
        f"Person {n}" for n in range(1, len(top.records) + 1)]
    spec = job_defs.resolve_assets_def("face_clusters").specs_by_key[dg.AssetKey("face_clusters")]
    assert "person_id" in [c.name for c in spec.metadata["dagster/column_schema"].columns]
    assert spec.owners == ["team:moviefaces"]
    assert instance.get_latest_materialization_event(dg.AssetKey("face_clusters"))


def test_settings_changed_at_launch_are_refused(tmp_path: Path, cast_a: Path) -> None:
    """A launch-time override would change results without changing the recorded code
    version: refused, saying where the setting belongs."""
    store = MovieStoreResource(output_dir=str(tmp_path))
    store.root().register(cast_a)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(MOVIES_PARTITION, ["cast_a"])
    job = build_definitions(store=store, progress=LogProgress()).resolve_job_def("process_movie")
    result = job.execute_in_process(
        partition_key="cast_a", instance=instance, raise_on_error=False,
        run_config={"resources": {"sampling": {"config": {"fps": 2.0, "duration": 4.0}}}})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "frames"
    assert "differ from the code location's; set them where it loads" in \
        failure.step_failure_data.error.message
