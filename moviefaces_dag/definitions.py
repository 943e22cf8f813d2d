"""The moviefaces code location.

Settings live in resources (configured from environment variables by default) and are hashed
into each asset's code version, so Dagster knows exactly which stages a settings change affects.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dagster import AssetsDefinition, Definitions, map_asset_specs

from .assets import all_assets
from .automation import rebuild_library, rerun_when_changed
from .jobs import process_and_export_movie, process_movie, refresh_movie
from .progress import LogProgress
from .resources import (
    ClusteringResource,
    FaceAnalyzerResource,
    MovieFolderResource,
    MovieStoreResource,
    SamplingResource,
)
from .sensors import automation_sensor, movie_folder_sensor
from .versions import SOURCES, stage_version


def default_resources() -> dict[str, Any]:
    return {
        "store": MovieStoreResource(),
        "sampling": SamplingResource(),
        "face_analyzer": FaceAnalyzerResource(),
        "clustering": ClusteringResource(),
        "movie_folder": MovieFolderResource(),
        "progress": LogProgress(),
    }


def stage_settings(stage: str, resources: dict[str, Any]) -> dict[str, Any]:
    """The settings of `stage` that shape its output, from the resources it runs with."""
    if stage == "frames":
        return resources["sampling"].settings()
    if stage == "face_detections":
        return resources["face_analyzer"].detector_settings()
    if stage == "face_embeddings":
        return resources["face_analyzer"].recognizer_settings()
    if stage == "face_clusters":
        return asdict(resources["clustering"].settings())
    return {}


def code_versions(resources: dict[str, Any]) -> dict[str, str]:
    return {stage: stage_version(stage, stage_settings(stage, resources)) for stage in SOURCES}


def versioned_assets(resources: dict[str, Any]) -> list[AssetsDefinition]:
    """The assets with code versions from these resources' settings, and the automation
    condition that reruns exactly what a change affects."""
    versions = code_versions(resources)
    return map_asset_specs(
        lambda spec: spec.replace_attributes(
            code_version=versions.get(spec.key.to_user_string(), spec.code_version),
            owners=["team:moviefaces"],
            automation_condition=rebuild_library() if spec.key.to_user_string() == "library"
            else rerun_when_changed(),
        ),
        all_assets,
    )


def build_definitions(**resource_overrides: Any) -> Definitions:
    resources = {**default_resources(), **resource_overrides}
    return Definitions(
        assets=versioned_assets(resources),
        jobs=[process_movie, process_and_export_movie, refresh_movie],
        sensors=[movie_folder_sensor, automation_sensor],
        resources=resources,
    )


defs = build_definitions()
