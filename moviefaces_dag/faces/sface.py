"""OpenCV's SFace recogniser, batched."""

from __future__ import annotations

import threading

import cv2
import numpy as np

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
SFACE_ID = "sface-2021dec-int8bq"
DIMENSION = 128


class SFaceRecognizer:
    """SFace embeddings of aligned 112x112 BGR faces, as the model gives them (not normalised)."""

    def __init__(self, model_path: str, batch_size: int = 32):
        self.model_path = model_path
        self.batch_size = batch_size
        self._models = threading.local()
        _ = self._model  # load now, in this thread: a broken file fails here, not mid-movie

    # cv2.dnn rather than FaceRecognizerSF: the int8 file has unused graph inputs, so the input
    # must be named, and the dnn path takes a whole batch at once. One net per thread, as the net
    # keeps per-call state.
    @property
    def _model(self) -> cv2.dnn.Net:
        if not hasattr(self._models, "model"):
            self._models.model = cv2.dnn.readNetFromONNX(self.model_path)
        return self._models.model

    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray:
        if not aligned_faces:
            return np.zeros((0, DIMENSION), np.float32)
        out = []
        for start in range(0, len(aligned_faces), self.batch_size):
            batch = aligned_faces[start:start + self.batch_size]
            # SFace takes RGB in 0..255, no mean or scale.
            blob = cv2.dnn.blobFromImages(batch, 1.0, (112, 112), (0, 0, 0), swapRB=True)
            self._model.setInput(blob, "data")
            out.append(np.asarray(self._model.forward()).reshape(len(batch), -1))
        return np.concatenate(out).astype(np.float32, copy=False)

    def close(self) -> None:
        self._models = threading.local()
