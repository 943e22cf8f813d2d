"""Recogniser preprocessing, batching and normalisation on the real test models (onnxruntime)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pytest

from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.recognizer import PROFILES, Preprocessing, Recognizer
from moviefaces_dag.faces.runners import OnnxRunner
from moviefaces_dag.faces.scrfd import ScrfdDetector
from moviefaces_dag.faces.types import FaceModelError, l2_normalize

PEOPLE = ["colin_powell", "george_w_bush", "tony_blair", "vladimir_putin"]


@pytest.fixture(scope="module")
def runners(models_dir: Path):
    made = {name: OnnxRunner(models_dir / f"{name}.onnx")
            for name in ("scrfd_500m_kps", "mobilefacenet_128", "sface_int8bq_128")}
    yield made
    for runner in made.values():
        runner.close()


@pytest.fixture(scope="module")
def aligned_faces(runners, testdata: Path) -> list[tuple[str, np.ndarray]]:
    """(identity, aligned 112x112 BGR face) for three photos each of four people."""
    detector = ScrfdDetector(runners["scrfd_500m_kps"])
    faces = []
    for person in PEOPLE:
        for photo in sorted((testdata / "images" / person).glob("*.jpg"))[:3]:
            image = cv2.imread(str(photo))
            best = max(detector.detect(image), key=lambda d: d.box[2] * d.box[3])
            faces.append((person, align_face(image, best.landmarks)))
    return faces


def test_embeddings_are_raw_rows_as_wide_as_the_model_says(runners, aligned_faces) -> None:
    faces = [face for _, face in aligned_faces]
    for name, profile in (("mobilefacenet_128", "mobilefacenet"), ("sface_int8bq_128", "sface")):
        recognizer = Recognizer(runners[name], PROFILES[profile])
        vectors = recognizer.embed(faces)
        assert recognizer.dimension == runners[name].spec.outputs[0].shape[1] == 128
        assert vectors.shape == (len(faces), 128) and vectors.dtype == np.float32
        # Left as the model gives them: the length is the store's clarity signal.
        lengths = np.linalg.norm(vectors, axis=1)
        assert np.all(np.isfinite(lengths)) and np.ptp(lengths) > 0.1 and lengths.min() > 0
        assert recognizer.embed([]).shape == (0, 128)


def test_batches_respect_the_model_limit_and_give_the_same_vectors(runners, aligned_faces
                                                                   ) -> None:
    faces = [face for _, face in aligned_faces]
    dynamic = runners["mobilefacenet_128"]
    whole = Recognizer(dynamic, PROFILES["mobilefacenet"], batch_size=32).embed(faces)
    in_threes = Recognizer(dynamic, PROFILES["mobilefacenet"], batch_size=3).embed(faces)
    assert np.allclose(whole, in_threes, atol=1e-5)
    single = Recognizer(runners["sface_int8bq_128"], PROFILES["sface"], batch_size=32)
    assert runners["sface_int8bq_128"].spec.max_batch == 1 and single.batch_size == 1
    assert single.embed(faces).shape == (len(faces), 128)


def test_sface_profile_tells_people_apart(runners, aligned_faces) -> None:
    recognizer = Recognizer(runners["sface_int8bq_128"], PROFILES["sface"])
    vectors = l2_normalize(recognizer.embed([face for _, face in aligned_faces]))
    same, different = [], []
    for (a, va), (b, vb) in combinations(zip([p for p, _ in aligned_faces], vectors,
                                             strict=True), 2):
        (same if a == b else different).append(float(va @ vb))
    assert min(same) > max(different), (min(same), max(different))


def test_preprocessing_profile_reaches_the_model(runners, aligned_faces) -> None:
    faces = [face for _, face in aligned_faces[:2]]
    runner = runners["sface_int8bq_128"]
    right = l2_normalize(Recognizer(runner, PROFILES["sface"]).embed(faces))
    swapped = l2_normalize(Recognizer(runner, Preprocessing("BGR", 0.0, 1.0)).embed(faces))
    assert np.all(np.sum(right * swapped, axis=1) < 0.999)


def test_rejects_models_and_faces_it_cannot_use(runners) -> None:
    with pytest.raises(FaceModelError, match=r"one \[batch, dim\] output"):
        Recognizer(runners["scrfd_500m_kps"], PROFILES["arcface"])
    recognizer = Recognizer(runners["mobilefacenet_128"], PROFILES["mobilefacenet"])
    with pytest.raises(FaceModelError, match="aligned BGR faces"):
        recognizer.embed([np.zeros((112, 112), np.uint8)])
