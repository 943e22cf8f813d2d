"""The report and dataset assets in Dagster: what their metadata shows."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance, materialize
from synthetic_store import build_movie

from moviefaces_dag.defs.assets.dataset import face_dataset
from moviefaces_dag.defs.assets.report import movie_report
from moviefaces_dag.defs.partitions import MOVIES_PARTITION
from moviefaces_dag.defs.resources import MovieStoreResource


def test_report_and_dataset_metadata(tmp_path: Path):
    movie = build_movie(tmp_path / "out")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(MOVIES_PARTITION, [movie.key])
    result = materialize(
        [movie_report, face_dataset], partition_key=movie.key, instance=instance,
        resources={"store": MovieStoreResource(output_dir=str(movie.output_dir))},
        run_config={"ops": {"face_dataset": {"config": {"formats": ["jsonl"]}}}},
    )
    assert result.success
    report = result.asset_materializations_for_node("movie_report")[0].metadata
    path = movie.output_dir / movie.key / "index.html"
    assert report["path"].value == str(path) and path.is_file()
    assert report["url"].value == path.as_uri()
    assert report["unassigned_faces"].value == 1
    assert report["possibly_same_pairs"].value == 0  # the near pair has no even chance
    table = [(r.data["person"], r.data["faces"], r.data["screen_time"])
             for r in report["top_people"].value.records]
    assert table == [("Person 3", 10, "10 s"), ("Person 1", 7, "7 s"), ("Person 4", 4, "4 s"),
                     ("Person 2", 3, "3 s")]
    dataset = result.asset_materializations_for_node("face_dataset")[0].metadata
    assert Path(dataset["jsonl_path"].value, "dataset.jsonl").is_file()
    assert dataset["jsonl_faces"].value == 25
    assert "yolo_path" not in dataset
