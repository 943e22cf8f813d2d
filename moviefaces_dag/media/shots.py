"""Cheap shot-cut detection between consecutive sampled frames.

The frames stage measures each sample's distance to the one before it while the decoded frame is
in memory; clustering turns the stored distances into shot numbers.

A cut changes the colours on screen; a pan, a zoom or a flicker within one shot mostly does not.
The measure is the Bhattacharyya distance between hue-saturation histograms (brightness left out,
so flicker and fades within a shot do not read as cuts) of small copies of the two frames.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from .images import thumbnail

CUT_DISTANCE = 0.3  # histogram distance above which two consecutive samples are different shots
HIST_BINS = [30, 16]


def colour_signature(image: np.ndarray) -> np.ndarray:
    """Normalised hue-saturation histogram of a small copy of a BGR frame."""
    hsv = cv2.cvtColor(thumbnail(image), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, HIST_BINS, [0, 180, 0, 256])
    return cv2.normalize(hist, hist, 1.0, 0.0, cv2.NORM_L1).astype(np.float32)


def cut_distance(previous: np.ndarray | None, signature: np.ndarray) -> float:
    """Distance of a frame to the sample before it (None for the first frame: 0.0)."""
    if previous is None:
        return 0.0
    return float(cv2.compareHist(previous, signature, cv2.HISTCMP_BHATTACHARYYA))


def shot_ids(distances: Iterable[float], threshold: float = CUT_DISTANCE) -> np.ndarray:
    """Shot number per frame: it goes up by one wherever the distance marks a cut."""
    return np.cumsum([d > threshold for d in distances], dtype=np.int64)
