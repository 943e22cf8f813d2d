"""The SCRFD + ArcFace analyzer: one class for both the onnx and the triton backends.

Only the runners differ (runners.OnnxRunner on local files, triton_runner.TritonRunner on a
server); letterboxing, anchor decoding, NMS, batching and normalisation are shared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .recognizer import Preprocessing, Recognizer
from .runners import ModelRunner, OnnxRunner
from .scrfd import ScrfdDetector
from .triton_runner import RetryPolicy, TritonConnection, TritonRunner
from .types import Detection


@dataclass(frozen=True)
class ModelSettings:
    """What the shared SCRFD / recogniser code needs, whichever runner executes it."""

    input_size: tuple[int, int] = (640, 640)  # detector input width, height
    score_threshold: float = 0.5
    nms_threshold: float = 0.4
    min_face_px: float = 0.0
    preprocessing: Preprocessing = Preprocessing()
    batch_size: int = 32
    in_flight: int = 4


class ScrfdArcFaceAnalyzer:
    """FaceAnalyzer over two runners; closes them (and any shared connection) on close()."""

    def __init__(self, detector: ModelRunner, recognizer: ModelRunner, settings: ModelSettings,
                 on_close: Iterable = ()):
        self._runners = [detector, recognizer]
        self._on_close = list(on_close)
        try:
            self._detector = ScrfdDetector(detector, settings.input_size,
                                           settings.score_threshold, settings.nms_threshold,
                                           settings.min_face_px)
            self._recognizer = Recognizer(recognizer, settings.preprocessing,
                                          settings.batch_size)
        except BaseException:
            self.close()
            raise
        self.concurrency = settings.in_flight  # detect() is thread-safe: runners queue requests
        # SCRFD letterboxes every call to its fixed input: a window costs a whole frame.
        self.crop_detection = False
        self.detector_id = f"scrfd:{detector.model_id}"
        self.recognizer_id = recognizer.model_id

    @property
    def embedding_dimension(self) -> int:
        return self._recognizer.dimension

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self._detector.detect(image)

    def detect_windows(self, image: np.ndarray,
                       windows: list[tuple[int, int, int, int]]) -> list[Detection]:
        return [d for d in self._detector.detect(image)
                if any(x0 <= d.box[0] + d.box[2] / 2 < x1 and y0 <= d.box[1] + d.box[3] / 2 < y1
                       for x0, y0, x1, y1 in windows)]

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        return self._recognizer.embed(aligned_faces)

    def close(self) -> None:
        for runner in self._runners:
            runner.close()
        for close in self._on_close:
            close()
        self._runners, self._on_close = [], []


def onnx_analyzer(detector: Path | str, recognizer: Path | str,
                  settings: ModelSettings) -> ScrfdArcFaceAnalyzer:
    """SCRFD and a recogniser from local ONNX files on onnxruntime."""
    det = OnnxRunner(detector, settings.in_flight)
    try:
        rec = OnnxRunner(recognizer, settings.in_flight)
    except BaseException:
        det.close()
        raise
    return ScrfdArcFaceAnalyzer(det, rec, settings)


def triton_analyzer(
    url: str,
    detector: str,
    recognizer: str,
    settings: ModelSettings,
    detector_version: str = "",
    recognizer_version: str = "",
    request_timeout_s: float = 30.0,
    retry: RetryPolicy | None = None,
) -> ScrfdArcFaceAnalyzer:
    """SCRFD and a recogniser served by the Triton server at `url` (gRPC host:port)."""
    connection = TritonConnection(url, retry or RetryPolicy(), request_timeout_s)
    runners: list[TritonRunner] = []
    try:
        runners.append(TritonRunner(connection, detector, detector_version, settings.in_flight))
        runners.append(TritonRunner(connection, recognizer, recognizer_version,
                                    settings.in_flight))
    except BaseException:
        for runner in runners:
            runner.close()
        connection.close()
        raise
    return ScrfdArcFaceAnalyzer(runners[0], runners[1], settings, on_close=[connection.close])
