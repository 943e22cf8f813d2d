"""Reading and writing the JPEG files every stage shares (frames, face crops, exports)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90
# Report thumbnails: pages show faces at 56-120 px, so 160 px stays sharp on dense screens.
THUMB_SIDE = 160
THUMB_QUALITY = 82


def thumbnail(image: np.ndarray, side: int = THUMB_SIDE) -> np.ndarray:
    """`image` scaled down so its longer side is at most `side` pixels."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def write_jpeg(path: Path, image: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    # Encoded here and written by Python, so a failure says why (a full disk, permissions).
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError(f"could not encode {path} as JPEG")
    try:
        Path(path).write_bytes(data.tobytes())
    except OSError as exc:
        raise OSError(f"could not write {path}: {exc.strerror or exc}") from exc


def read_image(path: str, fix: str | Callable[[], str]) -> np.ndarray:
    """The BGR image at `path`; a missing or unreadable file raises FileNotFoundError whose
    message ends with `fix`, what the user should do (a function: asked only then)."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(
            f"image {path} is missing or unreadable; {fix() if callable(fix) else fix}")
    return image
