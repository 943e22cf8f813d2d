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


# The files that shape each face-model stage's output, so that a change to the recogniser's code
# reruns embeddings but never the expensive detection (and the other way round).
_MODEL_SOURCES = ("faces/types.py", "faces/runners.py", "faces/triton_runner.py",
                  "faces/opencv_backend.py", "faces/scrfd_arcface.py", "faces/paired.py",
                  "faces/buffalo.py",
                  "resources/face_analyzer.py")
DETECTOR_SOURCES = (*_MODEL_SOURCES, "faces/yunet.py", "faces/scrfd.py", "faces/quality.py")
RECOGNIZER_SOURCES = (*_MODEL_SOURCES, "faces/sface.py", "faces/recognizer.py",
                      "faces/alignment.py", "faces/scrfd.py")  # scrfd.py: input layouts


def code_versions(resources: dict[str, Any]) -> dict[str, str]:
    analyzer: FaceAnalyzerResource = resources["face_analyzer"]
    return {
        "movie": version_of("movie", {}, "video.py"),
        "frames": version_of(
            "frames", resources["sampling"].settings(), "video.py", "shots.py"),
        "face_detections": version_of(
            "face_detections", analyzer.detector_settings(), *DETECTOR_SOURCES),
        "face_embeddings": version_of(
            "face_embeddings", analyzer.recognizer_settings(), *RECOGNIZER_SOURCES),
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
