"""Face embeddings from an ArcFace-style recogniser on any ModelRunner.

The faces arrive already aligned to the ArcFace 112x112 template (alignment.align_face). What
differs between recognisers is the colour order, mean and scale of their input: a profile.
The embedding width, the input layout and the largest batch come from the model itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .alignment import ALIGNED_SIZE
from .runners import ModelRunner
from .scrfd import image_layout, spatial_size
from .types import FaceModelError


@dataclass(frozen=True)
class Preprocessing:
    """Pixel values the recogniser expects: (x - mean) / std in this channel order."""

    color: Literal["RGB", "BGR"] = "RGB"
    mean: float = 127.5
    std: float = 127.5


PROFILES = {
    "arcface": Preprocessing("RGB", 127.5, 127.5),  # insightface w600k_r50 and friends
    "mobilefacenet": Preprocessing("BGR", 127.5, 127.5),
    "sface": Preprocessing("RGB", 0.0, 1.0),  # OpenCV zoo SFace: raw 0..255
}


class Recognizer:
    def __init__(self, runner: ModelRunner, preprocessing: Preprocessing, batch_size: int = 32):
        spec = runner.spec
        self.layout = image_layout(spec, "recogniser")
        height, width = spatial_size(spec, self.layout)
        self.size = (width if width > 0 else ALIGNED_SIZE, height if height > 0 else ALIGNED_SIZE)
        if len(spec.outputs) != 1 or len(spec.outputs[0].shape) != 2:
            shapes = [list(o.shape) for o in spec.outputs]
            raise FaceModelError(f"recogniser model {spec.name!r} must have one [batch, dim] "
                                 f"output, it has {shapes}")
        if batch_size < 1:
            raise FaceModelError(f"recogniser batch size must be at least 1, got {batch_size}")
        self.runner = runner
        self.preprocessing = preprocessing
        self.batch_size = min(batch_size, spec.max_batch or batch_size)
        self.dimension = spec.outputs[0].shape[1]  # -1 when the model leaves it open
        self._dtype = spec.inputs[0].dtype

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        """Float32 embeddings as the model gives them (not normalised), one row per aligned BGR
        face."""
        if not faces:
            return np.zeros((0, max(self.dimension, 0)), np.float32)
        batches = [faces[i:i + self.batch_size] for i in range(0, len(faces), self.batch_size)]
        # Every batch goes out before the first result is awaited: the runner keeps
        # several in flight and blocks here only when it is full.
        futures = [self.runner.submit(self._blob(batch)) for batch in batches]
        rows = [self._check(f.result()[0], len(batch)) for f, batch in zip(futures, batches,
                                                                        strict=True)]
        return np.concatenate(rows).astype(np.float32, copy=False)

    def _blob(self, faces: list[np.ndarray]) -> np.ndarray:
        for face in faces:
            if face.ndim != 3 or face.shape[2] != 3:
                raise FaceModelError(f"recogniser takes aligned BGR faces, got an array of "
                                     f"shape {face.shape}")
        p = self.preprocessing
        blob = cv2.dnn.blobFromImages(faces, 1.0 / p.std, self.size, (p.mean,) * 3,
                                      swapRB=p.color == "RGB")
        if self.layout == "NHWC":
            blob = blob.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(blob, dtype=self._dtype)

    def _check(self, out: np.ndarray, count: int) -> np.ndarray:
        out = np.asarray(out)
        if out.ndim != 2 or len(out) != count or (
            self.dimension > 0 and out.shape[1] != self.dimension
        ):
            want = self.dimension if self.dimension > 0 else "dim"
            raise FaceModelError(f"recogniser model {self.runner.spec.name!r} returned shape "
                                 f"{list(out.shape)} for {count} faces; expected "
                                 f"[{count}, {want}]")
        return out.astype(np.float32, copy=False)
