"""The triton backend against a real tritonserver (tests/faces/conftest.py starts it once)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.recognizer import PROFILES
from moviefaces_dag.faces.scrfd_arcface import ModelSettings, onnx_analyzer, triton_analyzer
from moviefaces_dag.faces.triton_runner import RetryPolicy, TritonConnection, TritonRunner
from moviefaces_dag.faces.triton_server import free_port
from moviefaces_dag.faces.types import FaceModelError, l2_normalize
from moviefaces_dag.media.streaming import bounded_map
from moviefaces_dag.store import OutputRoot

RECOGNIZER_FILES = {"mobilefacenet": "mobilefacenet_128.onnx", "sface": "sface_int8bq_128.onnx",
                    "arcface": "w600k_mbf_512.onnx"}
DIMENSIONS = {"mobilefacenet": 128, "sface": 128, "arcface": 512}


def settings(recognizer: str, **overrides) -> ModelSettings:
    return ModelSettings(preprocessing=PROFILES[recognizer], **overrides)


@pytest.mark.parametrize("recognizer", ["mobilefacenet", "sface", "arcface"])
def test_triton_gives_what_local_onnxruntime_gives(triton_server, models_dir, cast_a_frames,
                                                   recognizer) -> None:
    local = onnx_analyzer(models_dir / "scrfd_500m_kps.onnx",
                          models_dir / RECOGNIZER_FILES[recognizer], settings(recognizer))
    remote = triton_analyzer(triton_server.url, "scrfd", recognizer, settings(recognizer))
    try:
        assert remote.embedding_dimension == local.embedding_dimension == DIMENSIONS[recognizer]
        assert remote.recognizer_id == recognizer and remote.detector_id == "scrfd:scrfd"
        expected = [local.detect(frame) for frame in cast_a_frames]
        # As the pipeline calls it: several requests in flight from its detector threads.
        got = list(bounded_map(remote.detect, cast_a_frames, workers=remote.concurrency))
        assert sum(map(len, expected)) >= 15
        for want, have in zip(expected, got, strict=True):
            assert len(have) == len(want)
            for a, b in zip(want, have, strict=True):
                assert np.abs(np.subtract(a.box, b.box)).max() < 1.0
                assert np.abs(a.landmarks - b.landmarks).max() < 1.0
                assert abs(a.score - b.score) < 1e-3
        faces = [align_face(frame, det.landmarks)
                 for frame, dets in zip(cast_a_frames, expected, strict=True) for det in dets]
        here, there = local.embed(faces), remote.embed(faces)
        cosines = np.sum(l2_normalize(here) * l2_normalize(there), axis=1)
        assert cosines.min() > 0.999
        np.testing.assert_allclose(np.linalg.norm(there, axis=1), np.linalg.norm(here, axis=1),
                                   rtol=1e-3)  # the length, a quality signal, travels intact
    finally:
        local.close()
        remote.close()


def test_batch_limits_come_from_the_server(triton_server) -> None:
    connection = TritonConnection(triton_server.url, RetryPolicy(), 30.0)
    try:
        dynamic = connection.model_spec("mobilefacenet", "")
        single = connection.model_spec("sface", "")
        assert dynamic.max_batch == 32 and dynamic.inputs[0].shape == (-1, 3, 112, 112)
        assert dynamic.outputs[0].shape == (-1, 128)
        assert single.max_batch == 1
    finally:
        connection.close()


def test_unreachable_server_fails_after_a_bounded_retry() -> None:
    url = f"127.0.0.1:{free_port()}"  # nobody listens there
    started = time.monotonic()
    with pytest.raises(FaceModelError) as failure:
        triton_analyzer(url, "scrfd", "sface", settings("sface"),
                        retry=RetryPolicy(timeout_s=2.0, initial_backoff_s=0.1))
    elapsed = time.monotonic() - started
    message = str(failure.value)
    assert f"Triton server at {url} is down or unreachable" in message
    assert "\n" not in message
    assert 1.0 <= elapsed <= 10.0, elapsed  # it did retry, and it gave up


def test_missing_model_is_named_with_the_models_the_server_has(triton_server) -> None:
    with pytest.raises(FaceModelError) as failure:
        triton_analyzer(triton_server.url, "scrfd_10g", "sface", settings("sface"))
    message = str(failure.value)
    assert f"model 'scrfd_10g' is not on the Triton server at {triton_server.url}" in message
    for listed in ("scrfd v1 (READY)", "mobilefacenet v1 (READY)", "sface v1 (READY)",
                   "broken v1 (UNAVAILABLE)"):
        assert listed in message
    with pytest.raises(FaceModelError, match="model 'scrfd' version 7 is not on the Triton"):
        triton_analyzer(triton_server.url, "scrfd", "sface", settings("sface"),
                        detector_version="7")


def test_model_that_failed_to_load_is_reported_not_ready(triton_server) -> None:
    with pytest.raises(FaceModelError) as failure:
        triton_analyzer(triton_server.url, "scrfd", "broken", settings("sface"))
    message = str(failure.value)
    assert "model 'broken' is not ready (UNAVAILABLE" in message
    assert "missing.onnx" in message and "sface v1 (READY)" in message
    assert "\n" not in message


def test_models_with_the_wrong_tensors_are_refused_clearly(triton_server) -> None:
    with pytest.raises(FaceModelError, match="'mobilefacenet' does not look like SCRFD"):
        triton_analyzer(triton_server.url, "mobilefacenet", "sface", settings("sface"))
    with pytest.raises(FaceModelError, match=r"'scrfd' must have one \[batch, dim\] output"):
        triton_analyzer(triton_server.url, "scrfd", "scrfd", settings("sface"))


def test_server_refusal_of_a_bad_request_is_one_clear_error(triton_server) -> None:
    connection = TritonConnection(triton_server.url, RetryPolicy(), 30.0)
    runner = TritonRunner(connection, "mobilefacenet")
    try:
        bad_requests = [(np.zeros((1, 3, 100, 100), np.float32), "shape"),
                        (np.zeros((1, 3, 112, 112)), "data-type is 'FP64'")]
        for array, complaint in bad_requests:
            with pytest.raises(FaceModelError, match=f"failed inference on model "
                                                     f"'mobilefacenet': .*{complaint}"):
                runner.submit(array).result()
    finally:
        runner.close()
        connection.close()


def test_resource_builds_the_triton_analyzer(triton_server, cast_a_frames) -> None:
    resource = FaceAnalyzerResource(
        backend="triton", triton_url=triton_server.url, triton_recognizer="sface",
        recognizer_color="RGB", recognizer_mean=0.0, recognizer_std=1.0,
    )
    settings_hashed = resource.detector_settings()
    assert settings_hashed["input_size"] == [640, 640]
    assert settings_hashed["url"] == triton_server.url
    assert resource.recognizer_settings()["std"] == 1.0
    with resource.analyzer() as analyzer:
        found = [d for frame in cast_a_frames[:5] for d in analyzer.detect(frame)]
        assert found
        vectors = analyzer.embed([align_face(cast_a_frames[0], found[0].landmarks)])
        assert vectors.shape == (1, 128)


def test_yunet_pairs_with_the_served_arcface(triton_server, models_dir, cast_a_frames) -> None:
    """detector 'yunet': the embedded YuNet finds the faces, the served 512-d ArcFace embeds
    them as the same file does locally, and faces of one person come out alike."""
    resource = FaceAnalyzerResource(backend="triton", triton_url=triton_server.url,
                                    triton_recognizer="arcface", detector="yunet")
    assert resource.detector_settings()["detector_model"] == "yunet"
    local = onnx_analyzer(models_dir / "scrfd_500m_kps.onnx", models_dir / "w600k_mbf_512.onnx",
                          settings("arcface"))
    with resource.analyzer() as analyzer:
        assert analyzer.detector_id.startswith("yunet") and analyzer.recognizer_id == "arcface"
        found = [(frame, d) for frame in cast_a_frames[:8] for d in analyzer.detect(frame)]
        assert len(found) >= 5
        faces = [align_face(frame, d.landmarks) for frame, d in found]
        there = analyzer.embed(faces)
    here = local.embed(faces)
    local.close()
    assert there.shape == (len(faces), 512)
    assert np.sum(l2_normalize(here) * l2_normalize(there), axis=1).min() > 0.999
    # Consecutive samples of one shot show the same people: each face has a close match there.
    unit = l2_normalize(there)
    best = (unit @ unit.T - 2 * np.eye(len(unit))).max(axis=1)
    assert np.median(best) > 0.5


def test_moviefaces_run_with_the_triton_backend_writes_a_report(triton_server, cast_a,
                                                                 tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "run", str(cast_a), "--duration", "20",
         "--output-dir", str(tmp_path), "--backend", "triton", "--triton-url", triton_server.url,
         "--recognizer-model", "mobilefacenet", "--recognizer-profile", "mobilefacenet"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "people found:" in result.stdout
    report = tmp_path / "cast_a" / "index.html"
    assert report.is_file() and report.as_uri() in result.stdout
    store = OutputRoot(tmp_path).folder("cast_a").published()
    face_ids, matrix, model = store.embeddings()
    assert len(face_ids) >= 15 and matrix.shape == (len(face_ids), 128)
    assert model == "mobilefacenet"
    assert store.stage_runs()["face_detections"].settings["backend"] == "triton"


def test_moviefaces_run_against_no_server_fails_with_one_line(cast_a, tmp_path) -> None:
    url = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "run", str(cast_a), "--duration", "3",
         "--output-dir", str(tmp_path), "--backend", "triton", "--triton-url", url,
         "--retry-timeout", "1"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"moviefaces: error: Triton server at {url} is down or "
                                "unreachable"), result.stderr
