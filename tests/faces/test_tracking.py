"""Detection that does not redo work: full passes where faces can appear, searches around faces
already found elsewhere; and YuNet on onnxruntime giving OpenCV's detections."""

from __future__ import annotations

from itertools import islice

import cv2
import numpy as np
import pytest

from moviefaces_dag.evaluation.scoring import FramePrediction, PredictedFace, score_movie
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer, bundled_model
from moviefaces_dag.faces.tracking import Tracking, detect_samples, full_passes
from moviefaces_dag.faces.yunet import YUNET_FILE, YuNetDetector
from moviefaces_dag.media.shots import colour_signature, cut_distance
from moviefaces_dag.media.video import sample_frames


def test_full_passes_on_shot_starts_and_at_least_every_nth_sample() -> None:
    distances = [0.0, 0.1, 0.1, 0.1, 0.1, 0.9, 0.1, None, 0.1, 0.1]
    assert full_passes(distances, Tracking(full_every=3)) == [
        True, False, False, True, False, True, False, True, False, False]
    assert all(full_passes(distances, Tracking(full_every=1)))
    # Settings that do not count with one pass per sample do not move the code version.
    assert Tracking(full_every=1).settings() == Tracking(full_every=1, margin=3).settings()


def test_onnxruntime_yunet_gives_opencvs_detections(testdata) -> None:
    movie = testdata / "movies" / "hard_b.mp4"
    frame = next(f.image for f in sample_frames(movie, 1.0) if f.time >= 30)
    path = str(bundled_model(YUNET_FILE))
    detector = YuNetDetector(path, max_side=0, upscale=1.0, min_face_px=0.0)  # one pass
    for width, height in ((1920, 1080), (1000, 700)):
        image = cv2.resize(frame, (width, height))
        reference = cv2.FaceDetectorYN.create(path, "", (width, height), 0.5, 0.3, 5000)
        rows = reference.detect(image)[1]
        rows = np.zeros((0, 15)) if rows is None else rows[np.argsort(-rows[:, 14])]
        found = detector.detect(image)
        assert len(found) == len(rows)
        for det, row in zip(found, rows, strict=True):
            assert np.allclose(det.box, row[:4], atol=0.05)
            assert np.allclose(det.landmarks.reshape(-1), row[4:14], atol=0.05)
            assert det.score == pytest.approx(float(row[14]), abs=1e-4)


def test_windows_find_what_the_whole_frame_finds_there(testdata) -> None:
    movie = testdata / "movies" / "hard_b.mp4"
    detector = OpenCVFaceAnalyzer().detector  # both passes, as in the pipeline
    checked = 0
    for frame in islice(sample_frames(movie, 0.25), 8):
        image = frame.image
        found = detector.detect(image)
        # a window around every other face: faces outside every window must not come back
        windows = [(int(x - w), int(y - h), int(x + 2 * w), int(y + 2 * h))
                   for x, y, w, h in (d.box for d in found[::2])]
        got = [(*d.box, d.score) for d in detector.detect_windows(image, windows)]
        whole = [(*d.box, d.score) for d in found]
        inside = _inside(whole, windows)
        # every face lying in a window comes back as on the whole frame (within a fraction of a
        # pixel and a hundredth of score: the network's far context differs), and no other
        same = [0.5, 0.5, 0.5, 0.5, 0.02]
        assert all(any(np.all(np.abs(np.subtract(f, g)) <= same) for g in got) for f in inside)
        assert all(any(np.all(np.abs(np.subtract(f, g)) <= same) for f in whole)
                   for g in _inside(got, windows))
        checked += len(inside)
    assert checked >= 5


def _inside(faces: list[tuple], windows: list[tuple]) -> list[tuple]:
    """The faces (x, y, w, h, ...) whose boxes lie wholly in one of the windows."""
    return [f for f in faces if any(x0 <= f[0] and f[0] + f[2] <= x1 and y0 <= f[1]
                                    and f[1] + f[3] <= y1 for x0, y0, x1, y1 in windows)]


@pytest.mark.slow
def test_tracking_keeps_recall_with_fewer_full_passes(testdata) -> None:
    movie = testdata / "movies" / "hard_a.mp4"
    truth = GroundTruth.load(testdata / "movies" / "hard_a.json")
    frames = list(islice(sample_frames(movie, 1.0), 60))
    distances, previous = [], None
    for frame in frames:
        signature = colour_signature(frame.image)
        distances.append(cut_distance(previous, signature))
        previous = signature
    analyzer = OpenCVFaceAnalyzer()
    calls = {"full": 0}

    class Counting:
        crop_detection = True

        def detect(self, image):
            calls["full"] += 1
            return analyzer.detect(image)

        def detect_windows(self, image, windows):
            return analyzer.detect_windows(image, windows)

    def recall(tracking: Tracking, workers: int) -> tuple[float, list]:
        found = list(detect_samples(Counting(), frames, distances, lambda f: f.image,
                                    lambda f, _image, found: (f.time, found), tracking,
                                    workers))
        predictions = [FramePrediction(t, [PredictedFace(d.box, None) for d in dets])
                       for t, dets in found]
        return score_movie(predictions, truth).detection.recall_min_px, found

    single, _ = recall(Tracking(full_every=1), 2)
    assert calls["full"] == len(frames)
    calls["full"] = 0
    tracked, found = recall(Tracking(full_every=3), 2)
    # hard_a's shots are 1.5-5 s: about half the samples start a shot or are due a full pass
    assert calls["full"] == sum(full_passes(distances, Tracking(full_every=3))) < 0.7 * 60
    assert tracked >= single - 0.01
    # the same samples get the same passes whatever the threads: the result never varies
    _, again = recall(Tracking(full_every=3), 1)
    assert [(t, [d.box for d in dets]) for t, dets in found] == \
        [(t, [d.box for d in dets]) for t, dets in again]
