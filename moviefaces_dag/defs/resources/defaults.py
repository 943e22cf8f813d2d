"""The resources as the settings configure them, and the code versions they give each stage."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ...core.progress import LogProgress
from ...core.versions import SOURCES, stage_version
from .clustering import ClusteringResource
from .face_analyzer import FaceAnalyzerResource
from .movie_folder import MovieFolderResource
from .sampling import SamplingResource
from .store import MovieStoreResource


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
