"""Clustering and detection measures on tiny cases worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from moviefaces_dag.evaluation import metrics
from moviefaces_dag.evaluation.scoring import (
    FramePrediction,
    PredictedFace,
    format_table,
    score_movie,
)
from moviefaces_dag.evaluation.truth import GroundTruth, TruthError

# Truth: a a a b b; predicted: {1: a a}, {2: a b b}
TRUTH = ["a", "a", "a", "b", "b"]
PRED = [1, 1, 2, 2, 2]


def test_bcubed_by_hand():
    # precision per item: 2/2, 2/2, 1/3, 2/3, 2/3 -> (11/3) / 5 = 11/15
    # recall per item:    2/3, 2/3, 1/3, 2/2, 2/2 -> (11/3) / 5 = 11/15
    got = metrics.bcubed(TRUTH, PRED)
    assert got.precision == pytest.approx(11 / 15)
    assert got.recall == pytest.approx(11 / 15)
    assert got.f1 == pytest.approx(11 / 15)
    # moving a3 to cluster 1 makes it perfect for "a" and cluster 2 pure
    assert metrics.bcubed(TRUTH, [1, 1, 1, 2, 2]).f1 == pytest.approx(1.0)


def test_pairwise_by_hand():
    # pairs put together: C(2,2) + C(3,2) = 4, of which right: (a1,a2) and (b1,b2) = 2
    # same-identity pairs: C(3,2) + C(2,2) = 4
    got = metrics.pairwise(TRUTH, PRED)
    assert (got.precision, got.recall) == (pytest.approx(0.5), pytest.approx(0.5))


def test_nmi_by_hand():
    n = 5
    h_true = -(3 / n * math.log(3 / n) + 2 / n * math.log(2 / n))
    h_pred = -(2 / n * math.log(2 / n) + 3 / n * math.log(3 / n))
    # cells: (a,1)=2, (a,2)=1, (b,2)=2
    mi = (2 / n * math.log(2 * n / (3 * 2)) + 1 / n * math.log(1 * n / (3 * 3))
          + 2 / n * math.log(2 * n / (2 * 3)))
    assert metrics.nmi(TRUTH, PRED) == pytest.approx(mi / ((h_true + h_pred) / 2))


def test_purity_by_hand_and_splitting_everything_is_pure():
    assert metrics.purity(TRUTH, PRED) == pytest.approx((2 + 2) / 5)
    assert metrics.purity(TRUTH, [None] * 5) == 1.0


def test_unassigned_faces_are_singletons_not_one_cluster():
    # Were the three None one cluster, they would be a perfect "a" cluster.
    got = metrics.bcubed(["a", "a", "a"], [None, None, None])
    assert got.precision == 1.0
    assert got.recall == pytest.approx(1 / 3)
    assert metrics.pairwise(["a", "a", "a"], [None, None, None]).recall == 0.0


def test_perfect_and_all_in_one():
    assert metrics.bcubed(TRUTH, ["x", "x", "x", "y", "y"]).f1 == pytest.approx(1.0)
    assert metrics.nmi(TRUTH, ["x", "x", "x", "y", "y"]) == pytest.approx(1.0)
    merged = metrics.bcubed(TRUTH, [0] * 5)
    assert merged.recall == 1.0
    assert merged.precision == pytest.approx((3 * 3 / 5 + 2 * 2 / 5) / 5)
    assert metrics.nmi(TRUTH, [0] * 5) == 0.0


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="3 true labels but 2 predicted"):
        metrics.bcubed(["a", "b", "c"], [1, 2])


def _truth() -> GroundTruth:
    """Two frames (fps 1): frame 0 shows a and b, frame 1 shows a and c (c 30 px wide)."""
    return GroundTruth({
        "fps": 1.0, "cast": ["a", "b", "c"], "width": 640, "height": 480,
        "shots": [
            {"start_frame": 0, "end_frame": 1, "faces": [
                {"identity": "a", "face_box_start": [0, 0, 100, 100],
                 "face_box_end": [0, 0, 100, 100], "face_px": 100},
                {"identity": "b", "face_box_start": [200, 0, 300, 100],
                 "face_box_end": [200, 0, 300, 100], "face_px": 100}]},
            {"start_frame": 1, "end_frame": 2, "faces": [
                {"identity": "a", "face_box_start": [0, 0, 100, 100],
                 "face_box_end": [0, 0, 100, 100], "face_px": 100},
                {"identity": "c", "face_box_start": [400, 0, 430, 30],
                 "face_box_end": [400, 0, 430, 30], "face_px": 30}]},
        ],
    })


def test_score_movie_by_hand():
    frames = [
        # a found (IoU 0.81), b found by its centre only, plus a false face given person 1
        FramePrediction(0.0, [PredictedFace((5, 5, 90, 90), 1),
                              PredictedFace((240, 40, 100, 100), 1),
                              PredictedFace((500, 300, 50, 50), 1)]),
        # a found and put with person 2; c missed; a false face left unassigned
        FramePrediction(1.0, [PredictedFace((0, 0, 100, 100), 2),
                              PredictedFace((100, 300, 40, 40), None)]),
    ]
    score = score_movie(frames, _truth())
    d, i = score.detection, score.identity
    assert (d.true_faces, d.found, d.recall) == (4, 3, 0.75)
    assert (d.true_faces_min_px, d.found_min_px, d.recall_min_px) == (3, 3, 1.0)
    assert (d.detections, d.real_detections, d.precision) == (5, 3, 0.6)
    assert (d.assigned, d.assigned_real) == (4, 3)
    assert d.missed_by_identity["c"] == {"missed": 1, "total": 1}
    # scored items: a->1, b->1, a->2
    assert i.faces == 3 and i.unassigned == 0
    assert i.bcubed.precision == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    assert i.bcubed.recall == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert i.pairwise.precision == 0.0
    assert i.same_frame_merges == 3  # frame 0: three faces in person 1 make three pairs
    assert i.split == {"a": {"person 1": 1, "person 2": 1}}
    assert i.merged == {"person 1": {"a": 1, "b": 1}}
    assert (i.people_found, i.true_people) == (1, 3)  # person 2 has a single face
    assert json.loads(score.to_json())["identity"]["bcubed"]["precision"] == pytest.approx(2 / 3)
    table = format_table(score)
    assert "detection recall" in table and "0.750 (3/4)" in table
    assert "split a: " in table and "missed true faces by identity: c 1/1" in table


def test_one_prediction_matches_one_true_face_only():
    frames = [FramePrediction(0.0, [PredictedFace((0, 0, 300, 100), 1)])]
    score = score_movie(frames, _truth())
    assert score.detection.real_detections == 1
    assert score.detection.found == 1


def test_bad_truth_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text('{"fps": 24}')
    with pytest.raises(TruthError, match="not a ground-truth file"):
        GroundTruth.load(path)
    with pytest.raises(TruthError, match="cannot read ground truth"):
        GroundTruth.load(tmp_path / "missing.json")
