"""The detectors and recognisers the evaluation compares, as cache.Model entries."""

from __future__ import annotations

from pathlib import Path

from ..faces.opencv_backend import OpenCVFaceAnalyzer, bundled_model
from ..faces.recognizer import PROFILES, Recognizer
from ..faces.runners import OnnxRunner
from ..faces.scrfd import ScrfdDetector
from ..faces.sface import SFACE_FILE, SFACE_ID, SFaceRecognizer
from ..faces.yunet import YUNET_ID
from .cache import Model, file_id


def yunet() -> Model:
    """The embedded detector with the product's default settings."""
    analyzer_defaults = OpenCVFaceAnalyzer.__init__.__defaults__
    return Model(f"{YUNET_ID}-{'-'.join(map(str, analyzer_defaults))}",
                 lambda: OpenCVFaceAnalyzer().detector)


def sface() -> Model:
    return Model(SFACE_ID, lambda: SFaceRecognizer(str(bundled_model(SFACE_FILE))))


def scrfd(path: Path | str) -> Model:
    """SCRFD from an ONNX file with the product's default settings (640x640, score 0.5)."""
    return Model(f"scrfd-{file_id(path)}", lambda: ScrfdDetector(OnnxRunner(path, 2)))


def onnx_recognizer(path: Path | str, profile: str = "arcface") -> Model:
    return Model(f"rec-{file_id(path)}-{profile}",
                 lambda: Recognizer(OnnxRunner(path, 2), PROFILES[profile]))
