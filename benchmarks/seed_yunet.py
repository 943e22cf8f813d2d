"""The seed's YuNet detector for comparisons: OpenCV's `cv2.FaceDetectorYN` on the int8 file as
shipped, one model per thread, a pass at up to `max_side` plus one enlarged `upscale` times,
merged by NMS (moviefaces_dag/faces/yunet.py before it moved to onnxruntime)."""

from __future__ import annotations

import threading

import cv2
import numpy as np


class SeedYuNet:
    def __init__(self, model_path: str, max_side: int = 1920, upscale: float = 1.5,
                 score_threshold: float = 0.5, nms_threshold: float = 0.3,
                 min_face_px: float = 16.0):
        self.model_path, self.max_side, self.upscale = model_path, max_side, upscale
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        self.min_face_px = min_face_px
        self._models = threading.local()

    def _model(self) -> cv2.FaceDetectorYN:
        if not hasattr(self._models, "model"):
            self._models.model = cv2.FaceDetectorYN.create(
                self.model_path, "", (320, 320), self.score_threshold, self.nms_threshold, 5000)
        return self._models.model

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Rows (x, y, w, h, 5 landmarks, score) in the image's pixels."""
        height, width = image.shape[:2]
        base = min(1.0, self.max_side / max(height, width)) if self.max_side else 1.0
        scales = [base] + ([base * self.upscale] if self.upscale > 1.0 else [])
        rows = np.concatenate([self.detect_at(image, scale) for scale in scales])
        if len(scales) > 1 and len(rows):
            keep = cv2.dnn.NMSBoxes(rows[:, :4].tolist(), rows[:, 14].tolist(),
                                    self.score_threshold, self.nms_threshold)
            rows = rows[np.asarray(keep, dtype=np.int64).reshape(-1)]
        return rows[np.minimum(rows[:, 2], rows[:, 3]) >= self.min_face_px]

    def detect_at(self, image: np.ndarray, scale: float) -> np.ndarray:
        height, width = image.shape[:2]
        resized = image if scale == 1.0 else cv2.resize(
            image, (round(width * scale), round(height * scale)),
            interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR)
        model = self._model()
        model.setInputSize((resized.shape[1], resized.shape[0]))
        _, rows = model.detect(resized)
        if rows is None:
            return np.zeros((0, 15), np.float32)
        rows = np.array(rows, dtype=np.float32).reshape(-1, 15)
        rows[:, :14] /= scale
        return rows
