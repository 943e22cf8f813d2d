"""OpenCV's YuNet face detector, with a second pass on an enlarged copy for small faces."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from .types import Detection

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
YUNET_ID = "yunet-2023mar-int8bq"


class YuNetDetector:
    """YuNet on a frame scaled to at most `max_side` px, plus a pass on a copy enlarged `upscale`
    times for small faces (the passes' boxes merged by NMS).

    The score threshold is low on purpose: hard faces (dim, blurred, tilted) score 0.5-0.8 and
    the clustering's quality gate keeps low-score detections from starting a person.
    """

    def __init__(self, model_path: str, score_threshold: float = 0.5,
                 nms_threshold: float = 0.3, max_side: int = 1920, min_face_px: float = 16.0,
                 upscale: float = 1.5):
        self.model_path = model_path
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.upscale = upscale
        self.min_face_px = min_face_px
        self._models = threading.local()
        _ = self._model  # load now, in this thread: a broken file fails here, not mid-movie

    # Each thread gets its own model, loaded on its first call: the model keeps per-call state
    # (input size, blobs), and one call runs on about one core.
    @property
    def _model(self) -> cv2.FaceDetectorYN:
        if not hasattr(self._models, "model"):
            self._models.model = cv2.FaceDetectorYN.create(
                self.model_path, "", (320, 320), self.score_threshold, self.nms_threshold, 5000
            )
        return self._models.model

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
        self._model.setInputSize((resized.shape[1], resized.shape[0]))
        _, rows = self._model.detect(resized)
        if rows is None:
            return np.zeros((0, 15), np.float32)
        rows = np.array(rows, dtype=np.float32).reshape(-1, 15)
        rows[:, :14] /= scale
        return rows

    def close(self) -> None:
        self._models = threading.local()
