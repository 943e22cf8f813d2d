"""The embedded detector's enlarged second pass finds small faces, scored with the harness."""

from __future__ import annotations

from itertools import islice

from moviefaces_dag.evaluation.matching import iou
from moviefaces_dag.evaluation.scoring import FramePrediction, PredictedFace, score_movie
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.media.video import sample_frames


def test_upscaled_pass_finds_more_true_faces_without_duplicates(testdata):
    movie = testdata / "movies" / "hard_a.mp4"
    truth = GroundTruth.load(testdata / "movies" / "hard_a.json")
    frames = list(islice(sample_frames(movie, 0.5, on_damage=lambda _damage: None), 25))
    one_pass = OpenCVFaceAnalyzer(upscale=1.0)
    two_pass = OpenCVFaceAnalyzer()  # the defaults: a second pass at 1.5x
    scores = {}
    for name, analyzer in (("one", one_pass), ("two", two_pass)):
        predictions = []
        for frame in frames:
            found = analyzer.detect(frame.image)
            boxes = [(x, y, x + w, y + h) for x, y, w, h in (d.box for d in found)]
            # boxes are in frame pixels and the passes' duplicates were merged
            assert all(iou(a, b) <= analyzer.detector.nms_threshold
                       for i, a in enumerate(boxes) for b in boxes[i + 1:])
            assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
            predictions.append(FramePrediction(
                frame.time, [PredictedFace(d.box, None) for d in found]))
        scores[name] = score_movie(predictions, truth).detection
    assert scores["two"].found > scores["one"].found
    assert scores["two"].recall >= 0.9
