"""The face analyzer interface shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class FaceModelError(Exception):
    """A face model or model server cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in image pixels
    score: float
    landmarks: np.ndarray  # (5, 2): right eye, left eye, nose tip, right and left mouth corner


class FaceAnalyzer(Protocol):
    """Detects faces on whole BGR frames and embeds aligned 112x112 BGR faces."""

    detector_id: str
    recognizer_id: str
    # How many detect() calls may run at once from different threads: the pipeline keeps that
    # many frames in flight (OpenCV: one model per thread; Triton/onnx: requests in flight).
    concurrency: int
    # Width of the embeddings; 0 or less when the model leaves it open.
    embedding_dimension: int
    # Whether detect_windows costs in proportion to the windows' area (YuNet), so that
    # searching around faces already found pays (faces/tracking.py); False for detectors with a
    # fixed input size (SCRFD letterboxes every call to it: a window costs a whole frame).
    crop_detection: bool

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Every pass of the detector on a whole frame."""
        ...

    def detect_windows(self, image: np.ndarray,
                       windows: list[tuple[int, int, int, int]]) -> list[Detection]:
        """What detect() finds on the frame with its box's centre in one of `windows`
        (x0, y0, x1, y1 in frame pixels)."""
        ...

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        """Float32 embeddings as the model gives them, one row per face; the width comes from
        the model. The direction says who it is; the length, left as it is, says how clearly the
        model saw a face (the store keeps both, and clustering's quality gate uses it)."""
        ...

    def close(self) -> None: ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
