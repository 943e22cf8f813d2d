"""Clustering settings as a resource, so changing them reruns clusters and the report only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ...people.clustering import ClusterSettings
from .base import SettingsResource, setting_field

Algorithm = Literal["average", "complete", "greedy", "dbscan", "hdbscan"]


class ClusteringResource(SettingsResource):
    """How faces are grouped into people (env MOVIEFACES_CLUSTERING,
    MOVIEFACES_SIMILARITY_THRESHOLD); every algorithm honours the quality gate and the video's
    constraints, and the threshold's default depends on the recogniser and the algorithm."""

    section: ClassVar[str] = "clustering"
    algorithm: Algorithm = setting_field("clustering.algorithm")
    similarity_threshold: float | None = setting_field("clustering.similarity_threshold")
    min_faces: int = Field(2, ge=1, description="Smaller groups stay unassigned.")
    min_quality: float = Field(
        0.3, ge=0, le=1,
        description="Faces of lower quality (score, size, sharpness, pose) may join a person "
                    "but never start one.")
    min_score: float | None = Field(
        None, ge=0, le=1,
        description="Faces of lower detection score may join but not start; default depends "
                    "on the detector (YuNet 0.8, SCRFD 0.6).")
    min_norm: float | None = Field(
        None, ge=0,
        description="Faces whose raw embedding is shorter (the recogniser saw them less clearly) "
                    "may join but not start; default depends on the recogniser, 0 turns it off.")
    min_shots: int = Field(
        2, ge=1, description="Groups seen in fewer shots stay unassigned unless they have many "
                             "faces (bystanders, faces on posters).")

    def settings(self) -> ClusterSettings:
        return ClusterSettings(
            similarity_threshold=self.similarity_threshold, min_faces=self.min_faces,
            algorithm=self.algorithm, min_quality=self.min_quality, min_score=self.min_score,
            min_norm=self.min_norm, min_shots=self.min_shots,
        )
