"""Face quality is exposure-independent: a dim sharp face scores as the same face in daylight,
while blur and a washed-out face lower it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.faces.quality import assess


@pytest.fixture(scope="module")
def faces(testdata: Path) -> list[tuple[np.ndarray, object]]:
    """Real photos with their YuNet detection (box, score, landmarks)."""
    analyzer = OpenCVFaceAnalyzer(upscale=1.0)
    found = []
    for name in ("tony_blair/1.jpg", "colin_powell/2.jpg", "bbt_penny/1.jpg"):
        image = cv2.imread(str(testdata / "images" / name))
        image = cv2.resize(image, None, fx=2, fy=2)  # faces about 100-200 px
        det = max(analyzer.detect(image), key=lambda d: d.score)
        found.append((image, det))
    analyzer.close()
    return found


def _quality(image: np.ndarray, det) -> float:
    return assess(image, det.box, det.score, det.landmarks).quality


def test_dim_light_does_not_lower_quality(faces) -> None:
    for image, det in faces:
        bright = _quality(image, det)
        dim = _quality(np.clip(image * 0.3, 0, 255).astype(np.uint8), det)
        assert bright > 0.5
        assert dim == pytest.approx(bright, rel=0.1)


def test_blur_and_lost_contrast_lower_quality(faces) -> None:
    for image, det in faces:
        sharp = _quality(image, det)
        blurred = _quality(cv2.GaussianBlur(image, (0, 0), 8.0), det)
        mean = image.mean()
        flat = np.clip(mean + (image - mean) * 0.1, 0, 255).astype(np.uint8)
        assert blurred < 0.75 * sharp
        assert _quality(flat, det) < 0.75 * sharp
