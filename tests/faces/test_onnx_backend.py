"""The onnx backend: the SCRFD + recogniser code on local files, through the resource and CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.faces.types import FaceModelError
from moviefaces_dag.store import OutputRoot


def test_moviefaces_run_with_the_onnx_backend(models_dir, cast_a, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "run", str(cast_a), "--duration", "10",
         "--output-dir", str(tmp_path), "--backend", "onnx",
         "--onnx-detector", str(models_dir / "scrfd_500m_kps.onnx"),
         "--onnx-recognizer", str(models_dir / "sface_int8bq_128.onnx"),
         "--recognizer-profile", "sface"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr
    store = OutputRoot(tmp_path).folder("cast_a").published()
    face_ids, matrix, model = store.embeddings()
    assert len(face_ids) >= 5 and matrix.shape == (len(face_ids), 128)
    assert model == "sface_int8bq_128"
    settings = store.stage_runs()["face_detections"].settings
    assert settings["backend"] == "onnx" and settings["input_size"] == [640, 640]


def test_onnx_backend_needs_both_files(models_dir, tmp_path) -> None:
    with pytest.raises(FaceModelError, match="needs a SCRFD and a recogniser .onnx file"):
        FaceAnalyzerResource(backend="onnx", onnx_detector_path="",
                             onnx_recognizer_path="")._create()
    resource = FaceAnalyzerResource(backend="onnx",
                                    onnx_detector_path=str(tmp_path / "det.onnx"),
                                    onnx_recognizer_path=str(models_dir / "sface_int8bq_128.onnx"))
    with pytest.raises(FaceModelError, match="det.onnx not found"):
        resource._create()


def test_settings_that_change_results_change_the_cache_keys(models_dir) -> None:
    base = {"backend": "onnx", "onnx_detector_path": "d.onnx", "onnx_recognizer_path": "r.onnx"}
    reference = FaceAnalyzerResource(**base)
    for field, value in [("detector_input_width", 320), ("scrfd_score_threshold", 0.6),
                         ("scrfd_nms_threshold", 0.5), ("min_face_px", 30.0),
                         ("onnx_detector_path", "other.onnx")]:
        changed = FaceAnalyzerResource(**{**base, field: value})
        assert changed.detector_settings() != reference.detector_settings(), field
    for field, value in [("recognizer_color", "BGR"), ("recognizer_mean", 0.0),
                         ("recognizer_std", 1.0), ("onnx_recognizer_path", "other.onnx")]:
        changed = FaceAnalyzerResource(**{**base, field: value})
        assert changed.recognizer_settings() != reference.recognizer_settings(), field
    untouched = FaceAnalyzerResource(**{**base, "requests_in_flight": 9, "batch_size": 4})
    assert untouched.detector_settings() == reference.detector_settings()
    assert untouched.recognizer_settings() == reference.recognizer_settings()


def test_triton_model_names_and_versions_change_the_cache_keys() -> None:
    reference = FaceAnalyzerResource(backend="triton", triton_url="127.0.0.1:8001")
    for field, value, which in [("triton_detector", "scrfd_10g", "detector"),
                                ("triton_detector_version", "2", "detector"),
                                ("triton_recognizer", "glint", "recognizer"),
                                ("triton_recognizer_version", "3", "recognizer")]:
        changed = FaceAnalyzerResource(backend="triton", triton_url="127.0.0.1:8001",
                                       **{field: value})
        assert getattr(changed, f"{which}_settings")() != \
            getattr(reference, f"{which}_settings")(), field
