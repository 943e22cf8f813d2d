"""Cheap per-face quality figures: sharpness, size and a frontal-pose hint."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHARPNESS_SIDE = 64
# Laplacian variance of a 64x64 face at which it counts as fully sharp.
SHARP_ENOUGH = 150.0
# Face width (px) from which size stops limiting recognisability.
BIG_ENOUGH = 80.0


@dataclass(frozen=True)
class FaceQuality:
    sharpness: float  # variance of the Laplacian on the face resized to 64x64
    size: float  # shorter side of the box, px
    frontalness: float  # 1 = nose centred between the eyes and mouth, 0 = full profile
    quality: float  # 0..1, combines score, sharpness, size and pose


def sharpness(image: np.ndarray, box: tuple[float, float, float, float]) -> float:
    x, y, w, h = (int(round(v)) for v in box)
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    face = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    face = cv2.resize(face, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


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


def assess(image: np.ndarray, box: tuple[float, float, float, float], score: float,
           landmarks: np.ndarray) -> FaceQuality:
    sharp = sharpness(image, box)
    size = float(min(box[2], box[3]))
    pose = frontalness(landmarks)
    quality = (
        float(np.clip(score, 0.0, 1.0))
        * min(1.0, sharp / SHARP_ENOUGH) ** 0.5
        * min(1.0, size / BIG_ENOUGH) ** 0.5
        * (0.5 + 0.5 * pose)
    )
    return FaceQuality(sharp, size, pose, quality)


def padded_crop(image: np.ndarray, box: tuple[float, float, float, float],
                pad: float = 0.35) -> np.ndarray:
    """The face with `pad` of its size added on each side, clipped to the frame."""
    x, y, w, h = box
    height, width = image.shape[:2]
    cx, cy, side = x + w / 2, y + h / 2, max(w, h) * (1 + 2 * pad)
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    return image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
