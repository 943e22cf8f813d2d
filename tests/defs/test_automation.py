"""Caching and automation with Dagster's own machinery: a real instance, the real folder sensor,
real automation-condition evaluation and real materializations of short movie excerpts."""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from moviefaces_dag.core import versions
from moviefaces_dag.core.progress import LogProgress
from moviefaces_dag.definitions import build_definitions, versioned_assets
from moviefaces_dag.defs.resources import (
    ClusteringResource,
    FaceAnalyzerResource,
    MovieFolderResource,
    MovieStoreResource,
    SamplingResource,
)
from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.pipeline.watch import scan
from moviefaces_dag.store import OutputRoot

EXPENSIVE = {"frames", "face_detections", "face_embeddings"}


@dataclass
class World:
    tmp: Path
    instance: dg.DagsterInstance
    resources: dict = field(default_factory=dict)
    cursor: str | None = None
    sensor_cursor: str | None = None

    @property
    def folder(self) -> Path:
        return self.tmp / "movies"

    def defs(self, **overrides) -> dg.Definitions:
        return build_definitions(**{**self.resources, **overrides})

    def sensor(self, **overrides) -> dg.SensorResult | dg.SkipReason:
        """One tick of the real folder sensor; applies its partition requests like the daemon."""
        defs = self.defs(**overrides)
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.sensor_cursor,
            resources={**self.resources, **overrides},
        )
        result = defs.resolve_sensor_def("movie_folder_sensor")(context)
        if isinstance(result, dg.SensorResult):
            for request in result.dynamic_partitions_requests or []:
                self.instance.add_dynamic_partitions("movies", list(request.partition_keys))
            self.sensor_cursor = result.cursor
        else:
            self.sensor_cursor = context.cursor
        return result

    def materialize(self, partition: str, assets: list[str] | None = None, **overrides) -> None:
        resources = {**self.resources, **overrides}
        selection = (
            dg.AssetSelection.assets(*assets) if assets else dg.AssetSelection.groups("moviefaces")
        )
        result = dg.materialize(
            versioned_assets(resources), selection=selection, partition_key=partition,
            instance=self.instance, resources=resources,
        )
        assert result.success

    def settle(self, **overrides) -> dict[str, set[str]]:
        """Tick automation and run what it asks for until it asks for nothing; return all
        (asset -> partitions) it ran."""
        defs = self.defs(**overrides)
        ran: dict[str, set[str]] = defaultdict(set)
        for _ in range(10):
            result = dg.evaluate_automation_conditions(
                defs=defs, instance=self.instance, cursor=self.cursor
            )
            self.cursor = result.cursor
            requested: dict[str, list[str]] = defaultdict(list)
            for key in defs.resolve_all_asset_keys():
                for partition in result.get_requested_partitions(key):
                    requested[partition].append(key.to_user_string())
            if not requested:
                return dict(ran)
            for partition, assets in requested.items():
                self.materialize(partition, assets, **overrides)
                for asset in assets:
                    ran[asset].add(partition)
        raise AssertionError(f"automation did not settle: {dict(ran)}")


@pytest.fixture
def world(tmp_path: Path, testdata: Path) -> World:
    """Two movies dropped into a watched folder, registered by the sensor and fully processed."""
    instance = dg.DagsterInstance.ephemeral()
    world = World(tmp_path, instance)
    world.folder.mkdir()
    shutil.copy(testdata / "movies" / "cast_a.mp4", world.folder / "alpha.mp4")
    shutil.copy(testdata / "movies" / "cast_b.mp4", world.folder / "beta.mp4")
    world.resources = {
        "store": MovieStoreResource(output_dir=str(tmp_path / "out")),
        "sampling": SamplingResource(fps=0.5, duration=6),
        "face_analyzer": FaceAnalyzerResource(),
        "clustering": ClusteringResource(),
        "movie_folder": MovieFolderResource(folder=str(world.folder), settle_seconds=0),
        "progress": LogProgress(),
    }
    first = world.sensor()
    assert isinstance(first, dg.SensorResult)
    for request in first.run_requests:
        world.materialize(request.partition_key)
    # The library is built once, after both movies; then nothing is asked for.
    assert world.settle() == {"library": {None}}
    assert world.settle() == {}
    return world


def library_builds(world: World) -> int:
    return len(world.instance.fetch_materializations(dg.AssetKey("library"), limit=100).records)


def root_of(world: World) -> OutputRoot:
    return world.resources["store"].root()


def test_new_files_add_partitions_and_request_runs_once(world: World, tmp_path: Path) -> None:
    assert set(world.instance.get_dynamic_partitions("movies")) == {"alpha", "beta"}
    shutil.copy(world.folder / "alpha.mp4", tmp_path / "gamma.tmp")
    (tmp_path / "gamma.tmp").rename(world.folder / "gamma.mov")  # a real movie, new name
    (world.folder / "notes.mp4").write_text("not a video")

    result = world.sensor()
    assert isinstance(result, dg.SensorResult)
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("process_movie", "gamma")
    ]
    assert "gamma" in world.instance.get_dynamic_partitions("movies")
    assert "notes" not in world.instance.get_dynamic_partitions("movies")
    assert root_of(world).movies()["gamma"].path == str((world.folder / "gamma.mov").resolve())
    # Until the movie is processed, every tick asks again with the same run key, so Dagster
    # launches it once; then the ticks (the cursor survives, as across restarts) ask nothing.
    again = world.sensor()
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in result.run_requests]
    world.materialize("gamma")
    assert isinstance(world.sensor(), dg.SkipReason)
    assert isinstance(world.sensor(), dg.SkipReason)


def test_a_tick_that_fails_after_finding_a_file_strands_nothing(world: World) -> None:
    shutil.copy(world.folder / "alpha.mp4", world.folder / "delta.mp4")
    # What a tick does before it dies (on its time limit, say): the scan registers the file;
    # no partition is added and no run requested.
    scan(world.folder, root_of(world), 0, {})
    assert "delta" in root_of(world).movies()
    assert "delta" not in world.instance.get_dynamic_partitions("movies")
    result = world.sensor()  # the next tick finds it again
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("process_movie", "delta")]
    assert "delta" in world.instance.get_dynamic_partitions("movies")


def test_nothing_changed_requests_nothing(world: World) -> None:
    assert world.settle() == {}
    assert world.settle() == {}
    assert isinstance(world.sensor(), dg.SkipReason)


def test_changed_bytes_rerun_exactly_that_partition(world: World, testdata: Path) -> None:
    target = world.folder / "alpha.mp4"
    shutil.copy(testdata / "movies" / "cast_b.mp4", target)
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns - 10**9))
    result = world.sensor()
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("refresh_movie", "alpha")
    ]
    world.materialize("alpha", ["movie"])
    ran = world.settle()
    assert set(ran) >= {"frames", "face_detections", "face_embeddings", "face_clusters",
                        "movie_report"}
    assert "movie" not in ran
    assert ran.pop("library") == {None}
    assert all(partitions == {"alpha"} for partitions in ran.values()), ran


def test_detector_setting_reruns_detections_everywhere_not_frames(world: World) -> None:
    stricter = FaceAnalyzerResource(score_threshold=0.85)
    ran = world.settle(face_analyzer=stricter)
    assert "frames" not in ran and "movie" not in ran
    for asset in ["face_detections", "face_embeddings", "face_clusters", "movie_report"]:
        assert ran[asset] == {"alpha", "beta"}, asset
    assert world.settle(face_analyzer=stricter) == {}


def test_clustering_change_reruns_clusters_and_report_only(world: World) -> None:
    looser = ClusteringResource(similarity_threshold=0.2)
    builds = library_builds(world)
    ran = world.settle(clustering=looser)
    assert ran == {"face_clusters": {"alpha", "beta"}, "movie_report": {"alpha", "beta"},
                   "library": {None}}
    assert library_builds(world) == builds + 1  # once after both movies, not once per movie
    assert world.settle(clustering=looser) == {}


def test_a_decision_reruns_the_people_and_the_report_once(world: World) -> None:
    """A decision (from the CLI or the editor) changes people_decisions' data version when
    it is read; automation then regroups that movie and rebuilds its report and the library,
    once. Reading unchanged decisions again reruns nothing."""
    folder = root_of(world).folder("alpha")
    person = folder.published().people()[0].person_id
    Decisions(folder.path).add({"op": "name", "person": person, "name": "Ann"})
    world.materialize("alpha", ["people_decisions"])
    assert world.settle() == {"face_clusters": {"alpha"}, "movie_report": {"alpha"},
                              "library": {None}}
    assert folder.published().names() == {person: "Ann"}
    world.materialize("alpha", ["people_decisions"])
    assert world.settle() == {}
    Decisions(folder.path).undo()
    world.materialize("alpha", ["people_decisions"])
    assert world.settle() == {"face_clusters": {"alpha"}, "movie_report": {"alpha"},
                              "library": {None}}
    assert folder.published().names() == {}


def test_report_code_change_reruns_the_report_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(versions.REVISIONS, "movie_report", "2")
    assert world.settle() == {"movie_report": {"alpha", "beta"}, "library": {None}}


def test_sampling_change_reruns_frames_and_below(world: World) -> None:
    ran = world.settle(sampling=SamplingResource(fps=1.0, duration=6))
    assert ran["frames"] == {"alpha", "beta"}
    assert ran["face_detections"] == {"alpha", "beta"}
    assert "movie" not in ran


def test_frames_code_change_reruns_frames_only_and_keeps_the_faces(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = root_of(world)
    faces = {key: root.folder(key).draft_db().faces() for key in ("alpha", "beta")}
    assert all(faces.values())
    monkeypatch.setitem(versions.REVISIONS, "frames", "2")
    # Same bytes, same sampling: the frames come out with the same data version, so nothing
    # below reruns, and the faces and people made from them must still be there.
    assert world.settle() == {"frames": {"alpha", "beta"}}
    for key, before in faces.items():
        draft = root.folder(key).draft_db()
        assert draft.faces() == before
        assert all(root.folder(key).file(f.path).is_file() for f in draft.frames())
        assert draft.stale_stages() == []


def test_touch_and_rename_rerun_nothing_expensive(world: World) -> None:
    target = world.folder / "alpha.mp4"
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns - 100 * 10**9))
    result = world.sensor()
    assert [r.partition_key for r in result.run_requests] == ["alpha"]
    world.materialize("alpha", ["movie"])  # the refresh run: re-fingerprints, same bytes
    assert world.settle() == {}

    renamed = world.folder / "alpha renamed.mp4"
    target.rename(renamed)
    result = world.sensor()  # a cheap refresh checks it is the same movie
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("refresh_movie", "alpha")]
    assert root_of(world).movies()["alpha"].path == str(renamed.resolve())
    assert "alpha-renamed" not in world.instance.get_dynamic_partitions("movies")
    # The published pages follow the file: the report's play link opens it at its new path.
    folder = root_of(world).folder("alpha")
    frame_page = (folder.path / "g" / folder.published_generation() / "frame.html").read_text()
    assert f'id="play" href="{renamed.resolve().as_uri()}"' in frame_page
    world.materialize("alpha", ["movie"])
    assert world.settle() == {}


def test_vanished_file_keeps_its_data(world: World) -> None:
    (world.folder / "beta.mp4").unlink()
    assert isinstance(world.sensor(), dg.SkipReason)
    root = root_of(world)
    assert "beta" in root.movies()
    assert root.folder("beta").published().frames()
    assert world.settle() == {}


def test_once_a_dataset_was_asked_for_every_new_movie_gets_one(world: World) -> None:
    world.materialize("alpha", ["face_dataset"])
    shutil.copy(world.folder / "beta.mp4", world.folder / "epsilon.mp4")
    result = world.sensor()
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("process_and_export_movie", "epsilon")]
