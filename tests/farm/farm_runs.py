"""Processing movies in this process with each stage on another "machine" (its own resources:
output path and scratch folder), and what to compare results by."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from moviefaces_dag.core.progress import LogProgress
from moviefaces_dag.definitions import build_definitions, versioned_assets
from moviefaces_dag.defs.resources import (
    ClusteringResource,
    FaceAnalyzerResource,
    MovieFolderResource,
    MovieStoreResource,
    SamplingResource,
)
from moviefaces_dag.store import MovieFolder

FPS, DURATION = 1.0, 8.0  # short excerpts: enough for every cast member
# Each movie's stages in order; step n runs on machine n % machines.
STEPS = [["movie", "frames"], ["face_detections"], ["face_embeddings"],
         ["people_decisions", "face_clusters"], ["movie_report"]]
LIBRARY = ["library_decisions", "library"]


def machine(output_dir: str, scratch: Path | None) -> dict:
    return {
        "store": MovieStoreResource(output_dir=output_dir,
                                    scratch_dir=str(scratch) if scratch else None),
        "sampling": SamplingResource(fps=FPS, duration=DURATION),
        "face_analyzer": FaceAnalyzerResource(),
        "clustering": ClusteringResource(),
        "movie_folder": MovieFolderResource(),
        "progress": LogProgress(),
    }


def materialize(resources: dict, assets: list[str], key: str | None,
                instance: dg.DagsterInstance) -> None:
    result = dg.materialize(versioned_assets(resources),
                            selection=dg.AssetSelection.assets(*assets), partition_key=key,
                            instance=instance, resources=resources)
    assert result.success


def process(machines: list[dict], movies: list[Path]) -> list[str]:
    """Register and process `movies`, the stages taking turns on `machines`; their keys."""
    instance = dg.DagsterInstance.ephemeral()
    keys = [machines[n % len(machines)]["store"].registry().register(movie)
            for n, movie in enumerate(movies)]
    instance.add_dynamic_partitions("movies", keys)
    for key in keys:
        for n, assets in enumerate(STEPS):
            materialize(machines[n % len(machines)], assets, key, instance)
    materialize(machines[-1], LIBRARY, None, instance)
    return keys


def sensor_registers(resources: dict, folder: str) -> dict[str, str]:
    """Two ticks of the folder sensor watching `folder` with these resources, each asking for
    the run of the one movie "night" (the second finds it registered under the same key); the
    registered movies' locations, by key."""
    resources = {**resources, "movie_folder": MovieFolderResource(folder=folder,
                                                                  settle_seconds=0)}
    sensor = build_definitions(**resources).resolve_sensor_def("movie_folder_sensor")
    instance = dg.DagsterInstance.ephemeral()
    for _tick in range(2):
        result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert [r.partition_key for r in result.run_requests] == ["night"]
    return {key: row.path for key, row in resources["store"].registry().movies().items()}


def people(folder: MovieFolder) -> list[int]:
    """Face counts of the published people, most first."""
    return sorted((p.face_count for p in folder.published().people()), reverse=True)
