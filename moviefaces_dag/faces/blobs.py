"""Network inputs from BGR frames without `cv2.dnn.blobFromImage`, which is slow on big inputs:
on one thread it took 208 ms at 2880x1632 with the padding (against 16 ms here; a third of a
YuNet detection) and 12 ms at 640x640 (against 1.5 ms; more than SCRFD itself takes on a GPU).
Measured 2026-11-29; the values are the same to the last bit (tests/faces/test_blobs.py)."""

from __future__ import annotations

import numpy as np


def planar_blob(image: np.ndarray, height: int, width: int, mean: float = 0.0,
                scale: float = 1.0, swap_rb: bool = False) -> np.ndarray:
    """A (1, 3, height, width) float32 blob of `(pixel - mean) * scale`, with the image in its
    top-left corner and zero pixels (normalised the same way) beyond it."""
    rows, cols = image.shape[:2]
    blob = np.empty((1, 3, height, width), np.float32)
    blob[0, :, rows:, :] = blob[0, :, :rows, cols:] = -mean * scale  # only the padding
    channels = (2, 1, 0) if swap_rb else (0, 1, 2)
    for plane, channel in enumerate(channels):
        target = blob[0, plane, :rows, :cols]
        np.subtract(image[:, :, channel], mean, out=target, dtype=np.float32)
        if scale != 1.0:
            target *= scale
    return blob
