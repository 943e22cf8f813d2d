"""SCRFD letterboxing, decoding and NMS on the real SCRFD-500M model (onnxruntime)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moviefaces_dag.evaluation.matching import match_boxes
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.faces.runners import OnnxRunner
from moviefaces_dag.faces.scrfd import ScrfdDetector, nms
from moviefaces_dag.faces.types import FaceModelError
from moviefaces_dag.media.streaming import bounded_map


@pytest.fixture(scope="module")
def scrfd_runner(models_dir: Path):
    runner = OnnxRunner(models_dir / "scrfd_500m_kps.onnx")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def detector(scrfd_runner) -> ScrfdDetector:
    return ScrfdDetector(scrfd_runner, (640, 640), score_threshold=0.5, nms_threshold=0.4)


def corners(box):
    x, y, w, h = box
    return (x, y, x + w, y + h)


def test_finds_the_true_faces_of_cast_a(detector, cast_a_samples, cast_a_truth) -> None:
    truth = GroundTruth(cast_a_truth)
    yunet = OpenCVFaceAnalyzer()
    true_total = matched = predicted = confirmed = 0
    for frame in cast_a_samples:
        found = [corners(d.box) for d in detector.detect(frame.image)]
        faces = [f.box for f in truth.faces_at(frame.time)]
        true_total += len(faces)
        matched += len(match_boxes(found, faces))
        # The source photos hold a few faces the ground truth leaves out (a woman half behind
        # a curtain): a detection counts as right if it is a true face or YuNet sees it too.
        known = faces + [corners(d.box) for d in yunet.detect(frame.image)]
        predicted += len(found)
        confirmed += sum(1 for box in found if match_boxes([box], known))
    assert true_total >= 15
    assert matched / true_total >= 0.9, (matched, true_total)
    assert confirmed == predicted, (confirmed, predicted)


def test_landmarks_come_in_arcface_order_inside_the_box(detector, cast_a_frames) -> None:
    detections = [d for frame in cast_a_frames for d in detector.detect(frame)]
    assert detections
    for det in detections:
        x, y, w, h = det.box
        (rx, ry), (lx, ly), (nx, ny), (mrx, mry), (mlx, mly) = det.landmarks
        assert det.landmarks.shape == (5, 2) and det.landmarks.dtype == np.float32
        assert rx < lx and mrx < mlx  # image-left eye and mouth corner first, as YuNet
        assert max(ry, ly) < ny < min(mry, mly)  # eyes above the nose above the mouth
        assert x <= min(det.landmarks[:, 0]) and max(det.landmarks[:, 0]) <= x + w
        assert 0.5 <= det.score <= 1.0


def test_letterbox_maps_boxes_back_to_the_frame(detector, cast_a_frames) -> None:
    frame = next(f for f in cast_a_frames if detector.detect(f))
    full = detector.detect(frame)
    half = detector.detect(cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2)))
    # The same letterboxed pixels, so the same faces at half the coordinates.
    assert len(half) == len(full)
    for a, b in zip(sorted(full, key=lambda d: d.box), sorted(half, key=lambda d: d.box),
                    strict=True):
        assert np.allclose(np.array(a.box) / 2, b.box, atol=1.5)
        assert np.allclose(a.landmarks / 2, b.landmarks, atol=1.5)


def test_outputs_are_matched_by_shape_not_by_order(detector, scrfd_runner, cast_a_frames
                                                   ) -> None:
    frame = next(f for f in cast_a_frames if detector.detect(f))
    blob, scale = detector.prepare(frame)
    outputs = scrfd_runner.submit(blob).result()
    reference = detector.decode(outputs, scale)
    shuffled = [outputs[i] for i in np.random.default_rng(0).permutation(len(outputs))]
    batched = [o[None] for o in shuffled]  # exports with a leading batch dimension
    for variant in (shuffled, batched):
        again = detector.decode(variant, scale)
        assert [d.box for d in again] == [d.box for d in reference]


def test_thresholds_and_minimum_size_drop_faces(scrfd_runner, cast_a_frames) -> None:
    frame = next(f for f in cast_a_frames
                 if ScrfdDetector(scrfd_runner).detect(f))
    assert ScrfdDetector(scrfd_runner, score_threshold=0.999).detect(frame) == []
    assert ScrfdDetector(scrfd_runner, min_face_px=2000).detect(frame) == []


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]],
                     dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6], dtype=np.float32)
    assert nms(boxes, scores, 0.4) == [1, 2]
    assert nms(boxes, scores, 0.99) == [1, 0, 2, 3]


def test_rejects_a_model_that_is_not_scrfd(models_dir: Path) -> None:
    runner = OnnxRunner(models_dir / "mobilefacenet_128.onnx")
    try:
        with pytest.raises(FaceModelError, match="does not look like SCRFD"):
            ScrfdDetector(runner)
    finally:
        runner.close()


def test_rejects_bad_input_sizes_and_outputs(scrfd_runner, detector) -> None:
    with pytest.raises(FaceModelError, match="multiples of 32"):
        ScrfdDetector(scrfd_runner, (600, 640))
    outputs = [np.zeros((n, k), np.float32) for k in (1, 4, 10) for n in (12800, 3200, 800)]
    with pytest.raises(FaceModelError, match="returned a tensor of shape"):
        detector.decode(outputs[:-1] + [np.zeros((800, 7), np.float32)], 1.0)
    with pytest.raises(FaceModelError, match="needs a multiple of"):
        detector.decode([o[:-1] for o in outputs], 1.0)
    with pytest.raises(FaceModelError, match="BGR images"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_detect_from_several_threads_matches_one_by_one(models_dir, cast_a_frames) -> None:
    """The pipeline keeps `in_flight` detect() calls running at once from its threads."""
    runner = OnnxRunner(models_dir / "scrfd_500m_kps.onnx", in_flight=2)
    detector = ScrfdDetector(runner)
    try:
        one_by_one = [[d.box for d in detector.detect(f)] for f in cast_a_frames]
        threaded = [[d.box for d in found] for found in
                    bounded_map(detector.detect, cast_a_frames, workers=runner.in_flight)]
        assert threaded == one_by_one
    finally:
        runner.close()

