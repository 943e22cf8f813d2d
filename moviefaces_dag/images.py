"""Reading and writing the JPEG files every stage shares (frames, face crops, exports)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90


def write_jpeg(path: Path, image: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f"could not write {path}")


def read_image(path: str, fix: str) -> np.ndarray:
    """The BGR image at `path`; a missing or unreadable file raises FileNotFoundError whose
    message ends with `fix`, what the user should do."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"image {path} is missing or unreadable; {fix}")
    return image
