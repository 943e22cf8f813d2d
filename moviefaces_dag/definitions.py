"""The moviefaces code location.

Settings live in resources (configured from environment variables by default) and are hashed
into each asset's code version, so Dagster knows exactly which stages a settings change affects.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dagster import AssetsDefinition, Definitions, map_asset_specs

from .assets import all_assets
from .automation import rerun_when_changed
from .jobs import process_movie, refresh_movie
from .progress import LogProgress
from .resources import (
    ClusteringResource,
    FaceAnalyzerResource,
    MovieFolderResource,
    MovieStoreResource,
    SamplingResource,
)
from .sensors import automation_sensor, movie_folder_sensor
from .versions import version_of


def default_resources() -> dict[str, Any]:
    return {
        "store": MovieStoreResource(),
        "sampling": SamplingResource(),
        "face_analyzer": FaceAnalyzerResource(),
        "clustering": ClusteringResource(),
        "movie_folder": MovieFolderResource(),
        "progress": LogProgress(),
    }


def code_versions(resources: dict[str, Any]) -> dict[str, str]:
    analyzer: FaceAnalyzerResource = resources["face_analyzer"]
    return {
        "movie": version_of("movie", {}, "video.py"),
        "frames": version_of(
            "frames", resources["sampling"].settings(), "video.py", "shots.py"),
        "face_detections": version_of(
            "face_detections", analyzer.detector_settings(), "faces", "resources/face_analyzer.py"
        ),
        "face_embeddings": version_of(
            "face_embeddings", analyzer.recognizer_settings(), "faces", "resources/face_analyzer.py"
        ),
        "face_clusters": version_of(
            "face_clusters", asdict(resources["clustering"].settings()), "clustering.py", "shots.py"
        ),
        "movie_report": version_of("movie_report", {}, "report.py", "templates"),
        "face_dataset": version_of("face_dataset", {}, "export.py"),
    }


def versioned_assets(resources: dict[str, Any]) -> list[AssetsDefinition]:
    """The assets with code versions from these resources' settings, and the automation
    condition that reruns exactly what a change affects."""
    versions = code_versions(resources)
    return map_asset_specs(
        lambda spec: spec.replace_attributes(
            code_version=versions.get(spec.key.to_user_string(), spec.code_version),
            automation_condition=rerun_when_changed(),
        ),
        all_assets,
    )


def build_definitions(**resource_overrides: Any) -> Definitions:
    resources = {**default_resources(), **resource_overrides}
    return Definitions(
        assets=versioned_assets(resources),
        jobs=[process_movie, refresh_movie],
        sensors=[movie_folder_sensor, automation_sensor],
        resources=resources,
    )


defs = build_definitions()
