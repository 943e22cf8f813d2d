"""The embedded YuNet detector paired with an ArcFace-style recogniser on onnxruntime or Triton.

On the hard test movies YuNet (two passes, low score threshold) finds more of the small and
degraded faces than SCRFD-500M/2.5G at 640x640, while ArcFace w600k_mbf tells people apart
better than SFace; this pairing takes the better half of each (docs/clustering.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .opencv_backend import OpenCVFaceAnalyzer
from .recognizer import Recognizer
from .types import Detection
from .yunet import YUNET_ID, YuNetDetector


class YuNetPairedAnalyzer:
    """Detection by the embedded YuNet, embeddings by a recogniser on any runner."""

    def __init__(self, yunet: YuNetDetector, recognizer: Recognizer,
                 on_close: Iterable[Callable[[], None]] = ()):
        self._yunet = yunet
        self._recognizer = recognizer
        self._on_close = list(on_close)
        self.detector_id = YUNET_ID
        self.recognizer_id = recognizer.runner.model_id
        # YuNet threads each hold a model; recogniser calls queue on the runner.
        self.concurrency = OpenCVFaceAnalyzer.concurrency
        self.crop_detection = True

    @property
    def embedding_dimension(self) -> int:
        return self._recognizer.dimension

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self._yunet.detect(image)

    def detect_windows(self, image: np.ndarray,
                       windows: list[tuple[int, int, int, int]]) -> list[Detection]:
        return self._yunet.detect_windows(image, windows)

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        return self._recognizer.embed(aligned_faces)

    def close(self) -> None:
        self._yunet.close()
        self._recognizer.runner.close()
        for close in self._on_close:
            close()
        self._on_close = []
