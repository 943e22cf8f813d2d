"""`moviefaces triton-serve`: a real local server that answers, then stops with Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from moviefaces_dag.faces.recognizer import PROFILES
from moviefaces_dag.faces.scrfd_arcface import ModelSettings, triton_analyzer
from moviefaces_dag.faces.triton_runner import RetryPolicy
from moviefaces_dag.faces.triton_server import free_port
from moviefaces_dag.faces.types import FaceModelError


def test_triton_serve_serves_the_files_until_interrupted(models_dir, cast_a_frames) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moviefaces_dag.cli", "triton-serve",
         "--detector", str(models_dir / "scrfd_500m_kps.onnx"),
         "--recognizer", str(models_dir / "sface_int8bq_128.onnx"),
         "--recognizer-name", "sface", "--grpc-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        for line in process.stdout:
            if f"Triton serving on {url}" in line or time.monotonic() > deadline:
                break
        assert process.poll() is None, process.stderr.read()
        analyzer = triton_analyzer(url, "scrfd", "sface",
                                   ModelSettings(preprocessing=PROFILES["sface"]))
        try:
            assert sum(len(analyzer.detect(frame)) for frame in cast_a_frames[:5]) > 0
        finally:
            analyzer.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:  # SIGINT lets the CLI take its server group down too
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    with pytest.raises(FaceModelError, match="down or unreachable"):  # the server went with it
        triton_analyzer(url, "scrfd", "sface", ModelSettings(),
                        retry=RetryPolicy(timeout_s=0.5, initial_backoff_s=0.1))


def test_triton_serve_refuses_a_missing_file(models_dir, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "triton-serve",
         "--detector", str(tmp_path / "nope.onnx"),
         "--recognizer", str(models_dir / "sface_int8bq_128.onnx")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"moviefaces: error: model file {tmp_path / 'nope.onnx'} " \
                                    "not found"
