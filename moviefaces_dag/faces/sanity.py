"""Model output that cannot be right is refused before it reaches the store.

A broken model file, a wrong export or a misconfigured server can return NaN or infinite
values, or embeddings of the wrong width; stored, they would replace a good result with
nonsense (a run "succeeds" with no faces). The stage fails instead, naming the model.
"""

from __future__ import annotations

import numpy as np

from .types import Detection, FaceModelError


def check_detections(detections: list[Detection], model_id: str, where: str) -> None:
    for det in detections:
        values = np.array([*det.box, det.score, *np.asarray(det.landmarks).reshape(-1)],
                          dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise FaceModelError(
                f"the face detector {model_id} returned non-finite values (NaN or infinity) "
                f"on {where}; check the model file or server. Nothing was stored")
        if det.box[2] <= 0 or det.box[3] <= 0:
            raise FaceModelError(
                f"the face detector {model_id} returned a box of size {det.box[2]:g}x"
                f"{det.box[3]:g} on {where}; check the model file or server. Nothing was stored")


def check_embeddings(vectors: np.ndarray, count: int, model_id: str,
                     dimension: int | None = None) -> np.ndarray:
    """`vectors` as float32 if they are `count` finite, non-zero rows of the model's width."""
    vectors = np.asarray(vectors)
    width = dimension if dimension and dimension > 0 else None
    if vectors.ndim != 2 or len(vectors) != count or (width and vectors.shape[1] != width):
        raise FaceModelError(
            f"the face recogniser {model_id} returned shape {list(vectors.shape)} for {count} "
            f"faces, expected [{count}, {width or 'dim'}]. Nothing was stored")
    if not np.all(np.isfinite(vectors)):
        raise FaceModelError(
            f"the face recogniser {model_id} returned non-finite values (NaN or infinity); "
            "check the model file or server. Nothing was stored")
    if count and not np.all(np.linalg.norm(vectors, axis=1) > 0):
        raise FaceModelError(
            f"the face recogniser {model_id} returned an all-zero embedding; check the model "
            "file or server. Nothing was stored")
    return vectors.astype(np.float32, copy=False)
