"""Cheap per-face quality figures: sharpness relative to the face's own brightness, contrast,
size and a frontal-pose hint.

Every figure is exposure-independent: a sharp frontal face in a dim room scores as high as the
same face in daylight. Dimming a face by a factor scales its Laplacian, its standard deviation
and its mean brightness alike, so the ratios below do not move. The quality follows the
Laplacian's spread over the mean brightness, linearly, as the earlier measure (the raw
Laplacian variance, under a square root) followed the Laplacian's spread: blur and a washed-out,
low-contrast face both lower it in proportion. A square root of the sharpness ratio instead let
blurred, small faces through the quality gate, and on a movie never tuned on they bridged
different people (docs/clustering.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHARPNESS_SIDE = 64
# Laplacian standard deviation over the mean brightness (64x64 grey face) at which a face counts
# as fully sharp: the earlier measure's full mark (Laplacian variance 150) on a face of mean
# brightness 110, where a normally exposed face sits. Clear photos of the test corpus sit at
# 0.13-0.30; Gaussian blur of 2 px (on the 64 px face) takes them to 0.02-0.08, a third of their
# contrast to 0.06-0.14, and a third of their light leaves them where they were.
SHARP_ENOUGH = 0.11
# Face width (px) from which size stops limiting recognisability.
BIG_ENOUGH = 80.0
DARKEST = 8.0  # grey level under which a face is too dark to measure


@dataclass(frozen=True)
class FaceQuality:
    sharpness: float  # Laplacian std over the face's std (64x64 grey face): 0 = flat blur
    size: float  # shorter side of the box, px
    frontalness: float  # 1 = nose centred between the eyes and mouth, 0 = full profile
    quality: float  # 0..1, combines score, sharpness, contrast, size and pose
    contrast: float = 0.0  # standard deviation over mean brightness of the face


def _grey_face(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """The box's pixels (clipped to the frame) as a 64x64 grey float image; None if too small."""
    x, y, w, h = (int(round(v)) for v in box)
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    face = image[y0:y1, x0:x1]
    if face.ndim == 3:
        face = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    face = cv2.resize(face, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return face.astype(np.float64)


def sharpness_and_contrast(image: np.ndarray,
                           box: tuple[float, float, float, float]) -> tuple[float, float]:
    """(Laplacian std / face std, face std / face mean): both unchanged by the exposure."""
    face = _grey_face(image, box)
    if face is None:
        return 0.0, 0.0
    spread = float(face.std())
    mean = float(face.mean())
    if spread < 1e-6 or mean < DARKEST:
        return 0.0, 0.0
    laplacian = float(cv2.Laplacian(face, cv2.CV_64F).std())
    return laplacian / spread, spread / mean


def frontalness(landmarks: np.ndarray) -> float:
    """How centred the nose is between the eyes (and mouth corners): a yaw hint from 5 points."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    right_eye, left_eye, nose, right_mouth, left_mouth = pts
    axis = left_eye - right_eye
    span = np.linalg.norm(axis)
    if span < 1e-6:
        return 0.0
    axis /= span
    centre = (right_eye + left_eye + right_mouth + left_mouth) / 4.0
    offset = abs(float(np.dot(nose - centre, axis))) / span
    return float(np.clip(1.0 - 2.0 * offset, 0.0, 1.0))


def combine(score: float, sharp: float, contrast: float, size: float, pose: float) -> float:
    """The 0..1 quality from its parts; each part limits it only below its 'enough' value.
    sharp x contrast is the Laplacian's spread over the mean brightness."""
    return (
        float(np.clip(score, 0.0, 1.0))
        * min(1.0, sharp * contrast / SHARP_ENOUGH)
        * min(1.0, size / BIG_ENOUGH) ** 0.5
        * (0.5 + 0.5 * pose)
    )


def assess(image: np.ndarray, box: tuple[float, float, float, float], score: float,
           landmarks: np.ndarray) -> FaceQuality:
    sharp, contrast = sharpness_and_contrast(image, box)
    size = float(min(box[2], box[3]))
    pose = frontalness(landmarks)
    return FaceQuality(sharp, size, pose, combine(score, sharp, contrast, size, pose), contrast)


def padded_crop(image: np.ndarray, box: tuple[float, float, float, float],
                pad: float = 0.35) -> np.ndarray:
    """The face with `pad` of its size added on each side, clipped to the frame."""
    x, y, w, h = box
    height, width = image.shape[:2]
    cx, cy, side = x + w / 2, y + h / 2, max(w, h) * (1 + 2 * pad)
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    return image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
