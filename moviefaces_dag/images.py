"""Reading and writing the JPEG files every stage shares (frames, face crops, exports)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90


def write_jpeg(path: Path, image: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    # Encoded here and written by Python, so a failure says why (a full disk, permissions).
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError(f"could not encode {path} as JPEG")
    try:
        Path(path).write_bytes(data.tobytes())
    except OSError as exc:
        raise OSError(f"could not write {path}: {exc.strerror or exc}") from exc


def read_image(path: str, fix: str) -> np.ndarray:
    """The BGR image at `path`; a missing or unreadable file raises FileNotFoundError whose
    message ends with `fix`, what the user should do."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"image {path} is missing or unreadable; {fix}")
    return image
