"""Detection over a stream of frames, with several requests in flight where the backend can."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .types import Detection, FaceAnalyzer


def detect_stream(analyzer: FaceAnalyzer, images: Iterable[np.ndarray]
                  ) -> Iterator[tuple[np.ndarray, list[Detection]]]:
    """(image, detections) per image, in order. Backends with `detect_many` (onnx, triton)
    keep their requests in flight while later frames are read; others detect one by one."""
    detect_many = getattr(analyzer, "detect_many", None)
    if detect_many is not None:
        yield from detect_many(images)
        return
    for image in images:
        yield image, analyzer.detect(image)
