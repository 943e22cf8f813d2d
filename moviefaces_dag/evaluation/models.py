"""The detectors and recognisers the evaluation compares, as cache.Model entries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..faces.opencv_backend import OpenCVFaceAnalyzer, bundled_model
from ..faces.recognizer import PROFILES, Recognizer
from ..faces.runners import OnnxRunner
from ..faces.scrfd import ScrfdDetector
from ..faces.sface import SFACE_FILE, SFACE_ID, SFaceRecognizer
from ..faces.tracking import Tracking
from ..faces.yunet import YUNET_ID
from .cache import Model, file_id


def yunet(tracking: Tracking | None = None) -> Model:
    """The embedded detector with the product's default settings, on every sample alone or
    with `tracking` (faces/tracking.py)."""
    analyzer_defaults = OpenCVFaceAnalyzer.__init__.__defaults__
    name = f"{YUNET_ID}-{'-'.join(map(str, analyzer_defaults))}"
    if tracking is not None and tracking.full_every > 1:
        digest = hashlib.sha1(json.dumps(tracking.settings(), sort_keys=True).encode())
        name += f"-tracked-{digest.hexdigest()[:10]}"
    return Model(name, OpenCVFaceAnalyzer, tracking)


def sface() -> Model:
    return Model(SFACE_ID, lambda: SFaceRecognizer(str(bundled_model(SFACE_FILE))))


def scrfd(path: Path | str) -> Model:
    """SCRFD from an ONNX file with the product's default settings (640x640, score 0.5)."""
    return Model(f"scrfd-{file_id(path)}", lambda: ScrfdDetector(OnnxRunner(path, 2)))


def onnx_recognizer(path: Path | str, profile: str = "arcface") -> Model:
    return Model(f"rec-{file_id(path)}-{profile}",
                 lambda: Recognizer(OnnxRunner(path, 2), PROFILES[profile]))
