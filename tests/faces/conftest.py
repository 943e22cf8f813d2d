"""Fixtures for the face-model tests: the stand-in ONNX models, frames of cast_a, and one real
Triton server per test session (scripts/test-env/triton.sh installs it in .venv-triton)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from moviefaces_dag.faces.triton_server import ServedModel, TritonServer
from moviefaces_dag.media.video import SampledFrame, sample_frames

FRAME_SECONDS = 20


@pytest.fixture(scope="session")
def models_dir(testdata: Path) -> Path:
    path = Path(os.environ.get("MOVIEFACES_MODELS", testdata.parent / "models"))
    if not (path / "scrfd_500m_kps.onnx").is_file():
        pytest.fail(f"test models not found in {path}; set MOVIEFACES_MODELS")
    return path


@pytest.fixture(scope="session")
def cast_a_samples(cast_a: Path) -> list[SampledFrame]:
    """One frame per second of the first 20 s of cast_a (faces of several sizes)."""
    return list(sample_frames(cast_a, 1.0, FRAME_SECONDS))


@pytest.fixture(scope="session")
def cast_a_frames(cast_a_samples: list[SampledFrame]) -> list[np.ndarray]:
    return [f.image for f in cast_a_samples]


@pytest.fixture(scope="session")
def served_models(models_dir: Path) -> list[ServedModel]:
    """The stand-in models as the Triton tests serve them."""
    return [
        ServedModel("scrfd", models_dir / "scrfd_500m_kps.onnx"),
        ServedModel("mobilefacenet", models_dir / "mobilefacenet_128.onnx"),  # dynamic batch
        ServedModel("sface", models_dir / "sface_int8bq_128.onnx"),  # batch 1
        ServedModel("arcface", models_dir / "w600k_mbf_512.onnx"),  # real ArcFace, 512-d
    ]


@pytest.fixture(scope="session")
def triton_server(served_models: list[ServedModel], models_dir: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A real tritonserver on 127.0.0.1, plus a model whose file is missing (not ready)."""
    models = served_models + [ServedModel("broken", models_dir / "missing.onnx")]
    server = TritonServer(models, workdir=tmp_path_factory.mktemp("triton"))
    server.start()
    try:
        yield server
    finally:
        server.close()
