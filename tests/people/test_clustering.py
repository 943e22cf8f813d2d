"""Clustering: every algorithm, the quality gate, the video's constraints and shot cuts."""

from __future__ import annotations

import numpy as np
import pytest

from moviefaces_dag.media import shots
from moviefaces_dag.people.clustering import (
    ALGORITHMS,
    ClusterSettings,
    FaceContext,
    cluster_embeddings,
    cluster_people,
    default_min_norm,
    default_threshold,
)

DIM = 32


def _people(sizes: list[int], spread: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around one direction per person, the directions orthogonal;
    (embeddings, true person)."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(DIM, len(sizes))))[0].T
    truth = np.repeat(np.arange(len(sizes)), sizes)
    vectors = centres[truth] / np.linalg.norm(centres[truth], axis=1, keepdims=True)
    vectors = vectors + rng.normal(scale=spread / np.sqrt(DIM), size=vectors.shape)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), truth


def _context(n: int, sample=None, shot=None, boxes=None, quality=None, score=None,
             norm=None) -> FaceContext:
    return FaceContext(
        quality=np.full(n, 0.9) if quality is None else np.asarray(quality, float),
        score=np.full(n, 0.95) if score is None else np.asarray(score, float),
        sample=np.arange(n) * 10 if sample is None else np.asarray(sample),
        shot=np.arange(n) if shot is None else np.asarray(shot),
        boxes=np.tile([100.0, 100.0, 80.0, 80.0], (n, 1)) if boxes is None else np.asarray(boxes),
        norm=None if norm is None else np.asarray(norm, float),
    )


def _same_partition(labels: np.ndarray, truth: np.ndarray) -> bool:
    pairs = {(int(a), int(b)) for a, b in zip(labels, truth, strict=True)}
    return len(pairs) == len(set(labels.tolist())) == len(set(truth.tolist()))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_finds_well_separated_people(algorithm):
    vectors, truth = _people([8, 6, 5, 4])
    frames = np.arange(len(vectors))
    labels = cluster_embeddings(vectors, frames, ClusterSettings(algorithm=algorithm), "sface",
                                _context(len(vectors)))
    assert (labels >= 0).all()
    assert _same_partition(labels, truth)
    assert labels[0] == 0  # the biggest person comes first


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_faces_of_one_frame_are_never_one_person(algorithm):
    vectors, _ = _people([12], spread=0.05)
    frames = np.repeat(np.arange(6), 2)  # every frame shows two copies of the same face
    labels = cluster_embeddings(vectors, frames, ClusterSettings(algorithm=algorithm), "sface",
                                _context(12, sample=frames * 10, shot=frames))
    for frame in range(6):
        a, b = labels[frames == frame]
        assert a < 0 or a != b


def test_must_link_joins_a_face_seen_in_the_next_sample_of_the_shot():
    vectors, _ = _people([4, 4], spread=0.05, seed=3)
    # a face of person 1 at similarity ~0.3 to person 0: too far to cluster alone
    bridge = 0.3 * vectors[0] + np.sqrt(1 - 0.3**2) * _orthogonal(vectors[0], vectors[4])
    vectors = np.vstack([vectors, bridge]).astype(np.float32)
    frames = np.arange(9)
    settings = ClusterSettings(similarity_threshold=0.5, min_faces=1)
    alone = cluster_embeddings(vectors, frames, settings, "sface", _context(9))
    assert alone[8] not in alone[:4]
    # now face 8 is the sample right after face 3, in the same shot, at the same place
    sample = np.array([0, 10, 20, 30, 40, 50, 60, 70, 31])
    shot = np.array([0, 1, 2, 3, 4, 5, 6, 7, 3])
    linked = cluster_embeddings(vectors, frames, settings, "sface",
                                _context(9, sample=sample, shot=shot))
    assert linked[8] == linked[3]
    # ... unless a cut lies between them
    shot[8] = 8
    cut = cluster_embeddings(vectors, frames, settings, "sface",
                             _context(9, sample=sample, shot=shot))
    assert cut[8] != cut[3]


def _orthogonal(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w - (w @ v) * v
    return w / np.linalg.norm(w)


def test_low_quality_faces_join_but_never_start_or_bridge_a_person():
    a, _ = _people([5], spread=0.05, seed=1)
    b, _ = _people([5], spread=0.05, seed=2)
    # a blend of both people, and two low-quality copies of a third person
    blend = (a[0] + b[0]) / np.linalg.norm(a[0] + b[0])
    c, _ = _people([2], spread=0.01, seed=4)
    near_a = a[1] + 0.05 * b[1]
    vectors = np.vstack([a, b, [blend] * 3, c, [near_a / np.linalg.norm(near_a)]])
    n = len(vectors)
    quality = np.full(n, 0.9)
    quality[10:] = 0.1  # the blends, person c and the face near a fail the gate
    labels = cluster_embeddings(vectors.astype(np.float32), np.arange(n),
                                ClusterSettings(similarity_threshold=0.5), "sface",
                                _context(n, quality=quality))
    assert len(set(labels[:5])) == 1 and len(set(labels[5:10])) == 1
    assert labels[0] != labels[5]  # the blends did not bridge a and b
    assert (labels[13:15] == -1).all()  # low-quality faces alone do not make a person
    assert labels[15] == labels[0]  # but a low-quality face close to a joins a
    gated_by_score = cluster_embeddings(
        vectors.astype(np.float32), np.arange(n), ClusterSettings(similarity_threshold=0.5),
        "sface", _context(n, score=np.where(np.arange(n) >= 10, 0.55, 0.95)))
    assert (gated_by_score[13:15] == -1).all()
    # The same gate from the recogniser's embedding length (SFace: short = seen unclearly);
    # an unknown length (NaN: a store from before lengths were kept) passes.
    short = np.where(np.arange(n) >= 10, 3.0, 10.0)
    short[15] = np.nan
    by_length = cluster_embeddings(vectors.astype(np.float32), np.arange(n),
                                   ClusterSettings(similarity_threshold=0.5), "sface",
                                   _context(n, norm=short))
    assert (by_length[13:15] == -1).all() and by_length[15] == by_length[0]
    assert by_length[0] != by_length[5]
    ungated = cluster_embeddings(vectors.astype(np.float32), np.arange(n),
                                 ClusterSettings(similarity_threshold=0.5, min_norm=0.0), "sface",
                                 _context(n, norm=short))
    assert ungated[13] == ungated[14] >= 0  # with the gate off, person c is a person


def test_a_group_seen_in_a_single_shot_needs_many_or_clear_faces():
    vectors, _ = _people([3, 7, 2, 3], spread=0.05, seed=5)
    shot = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3])
    sample = np.array([0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 20, 21, 30, 31, 32])
    score = np.full(15, 0.95)
    score[:3] = 0.85  # passes the gate, but not seen clearly
    boxes = np.tile([100.0, 100.0, 80.0, 80.0], (15, 1))
    boxes[12:, 2:] = 30.0  # small faces: not seen clearly either
    context = _context(15, sample=sample, shot=shot, score=score, boxes=boxes)
    labels = cluster_embeddings(vectors, np.arange(15), ClusterSettings(), "sface", context)
    assert (labels[:3] == -1).all()  # three unclear faces in one shot: a bystander or a splinter
    assert (labels[12:] == -1).all()
    assert len(set(labels[3:10])) == 1 and labels[3] >= 0  # seven faces in one long shot
    assert labels[10] == labels[11] >= 0  # clearly seen in two samples of one shot: a person
    relaxed = cluster_embeddings(vectors, np.arange(15), ClusterSettings(min_shots=1), "sface",
                                 context)
    assert (relaxed[:3] >= 0).all()


def test_a_face_out_of_focus_beside_a_sharp_one_is_not_clearly_seen():
    # Two people in one shot, in the same four samples: a seen clearly, b in the background,
    # far softer than a (a film's depth of field). b is a person only when as sharp as a.
    vectors, _ = _people([4, 4], spread=0.05, seed=21)
    sample = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    frames = sample.copy()
    shot = np.zeros(8, dtype=np.int64)
    boxes = np.tile([100.0, 100.0, 80.0, 80.0], (8, 1))
    boxes[4:, 0] = 600.0

    def labels(b_sharpness: float) -> np.ndarray:
        sharpness = np.array([0.7] * 4 + [b_sharpness] * 4)
        context = FaceContext(quality=np.full(8, 0.6), score=np.full(8, 0.95), sample=sample,
                              shot=shot, boxes=boxes, sharpness=sharpness)
        return cluster_embeddings(vectors, frames, ClusterSettings(), "sface", context)

    soft = labels(0.2)
    assert len(set(soft[:4])) == 1 and soft[0] >= 0
    assert (soft[4:] == -1).all()
    sharp = labels(0.6)
    assert len(set(sharp[4:])) == 1 and sharp[4] >= 0 and sharp[4] != sharp[0]


def test_a_split_off_appearance_joins_its_person_only_when_alike_enough_and_apart_in_time():
    # Person a in three shots, person b unlike a; one more appearance of a, degraded, 0.45 alike
    # to a's faces (over the linkage bar), and one 0.27 alike (under it: degraded faces of other
    # people are that alike too, so it stays apart rather than risk a wrong merge).
    a, _ = _people([6], spread=0.02, seed=8)
    b, _ = _people([4], spread=0.02, seed=9)
    other = _orthogonal(a[0], _people([1], seed=10)[0][0])

    def splinter(similarity: float) -> np.ndarray:
        odd = similarity * a[0] + np.sqrt(1 - similarity**2) * other
        return np.tile(odd, (3, 1)).astype(np.float32)

    shot = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5])
    sample = np.array([0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 52])
    quality = np.full(13, 0.9)
    quality[10:] = 0.35  # degraded, but good enough to be clustered
    context = _context(13, sample=sample, shot=shot, quality=quality)
    frames = np.arange(13)
    alike = np.vstack([a, b, splinter(0.45)])
    labels = cluster_embeddings(alike, frames, ClusterSettings(), "sface", context)
    assert (labels[10:] == labels[0]).all() and labels[0] != labels[6]
    shared = frames.copy()
    shared[10] = 0  # the splinter shares a frame with a: it is someone else
    apart = cluster_embeddings(alike, shared, ClusterSettings(), "sface", context)
    assert (apart[10:] != apart[0]).all()
    faint = cluster_embeddings(np.vstack([a, b, splinter(0.27)]), frames, ClusterSettings(),
                               "sface", context)
    assert (faint[10:] != faint[0]).all()


def test_loose_faces_join_by_evidence_and_the_rest_keep_their_best_candidate():
    a, _ = _people([6], spread=0.02, seed=11)
    b, _ = _people([6], spread=0.02, seed=12)
    rng = np.random.default_rng(13)
    basis = np.linalg.qr(np.stack([a[0], b[0], rng.normal(size=DIM)], axis=1))[0].T

    def alike(to_a: float, to_b: float) -> np.ndarray:
        """A unit vector this similar to a's and b's first face (the people are tight)."""
        c = float(a[0] @ b[0])
        alpha, beta = np.linalg.solve([[1.0, c], [c, 1.0]], [to_a, to_b])
        part = alpha * a[0] + beta * b[0]
        return part + np.sqrt(1 - part @ part) * basis[2]

    # Failing the gate: 0.34 alike to a and 0.05 to b (under attach, above weak, a clear
    # margin), 0.2 alike to b (too unlike anyone), 0.33 alike to both (no margin).
    loose = np.array([alike(0.34, 0.05), alike(0.0, 0.2), alike(0.33, 0.33)])
    vectors = np.vstack([a, b, loose]).astype(np.float32)
    n = len(vectors)
    shot = np.concatenate([np.repeat(np.arange(6), 2), [10, 11, 12]])
    sample = np.concatenate([np.arange(12) * 10, [200, 300, 400]])
    quality = np.where(np.arange(n) >= 12, 0.1, 0.9)
    context = _context(n, sample=sample, shot=shot, quality=quality)
    people = cluster_people(vectors, np.arange(n), ClusterSettings(), "sface", context)
    assert people.labels[12] == people.labels[0] >= 0  # mean, margin and neighbours agree
    assert (people.labels[13:] == -1).all()
    assert people.candidate[13] == people.labels[6]
    assert people.candidate_similarity[13] == pytest.approx(0.2, abs=0.05)
    assert people.candidate[14] in (people.labels[0], people.labels[6])
    assert (people.candidate[:13] == -1).all() and np.isnan(people.candidate_similarity[:13]).all()


def test_clear_look_alikes_need_more_similarity_than_degraded_faces():
    # two people whose faces are 0.35 alike: one person if degraded, two if seen clearly
    a, _ = _people([4], spread=0.02, seed=6)
    other = 0.35 * a[0] + np.sqrt(1 - 0.35**2) * _orthogonal(a[0], _people([1], seed=7)[0][0])
    b = np.tile(other, (4, 1)).astype(np.float32)
    vectors = np.vstack([a, b])
    for quality, together in ((0.5, True), (0.95, False)):
        context = _context(8, quality=np.full(8, quality))
        labels = cluster_embeddings(vectors, np.arange(8), ClusterSettings(), "sface", context)
        assert bool(labels[0] == labels[4]) is together, quality


def test_without_context_it_still_clusters_and_splits_same_frame_faces():
    vectors, truth = _people([5, 5], spread=0.05)
    frames = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    labels = cluster_embeddings(vectors, frames, ClusterSettings(), "sface")
    assert _same_partition(labels, truth)
    assert cluster_embeddings(np.zeros((0, DIM)), np.zeros(0), ClusterSettings()).shape == (0,)
    single = cluster_embeddings(vectors[:1], frames[:1], ClusterSettings(min_faces=1))
    assert single.tolist() == [0]


def test_thresholds_depend_on_the_recogniser_and_algorithm():
    assert default_threshold("sface-2021dec-int8bq") != default_threshold("mobilefacenet_128")
    assert default_threshold("sface", "greedy") != default_threshold("sface", "average")
    assert default_threshold(None) == default_threshold("sface")
    assert default_min_norm("sface-2021dec-int8bq") == 7.0
    assert default_min_norm("arcface-r50") == default_min_norm("w600k_mbf") == 16.0
    assert default_min_norm("mobilefacenet_128") == 0.0
    # insightface file names say w600k, not arcface: they get the ArcFace defaults
    assert default_threshold("w600k_r50") == default_threshold("arcface") == 0.10


def test_unknown_algorithm_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown clustering algorithm 'kmeans'"):
        ClusterSettings(algorithm="kmeans")


def test_shot_cuts_follow_colour_changes_not_brightness():
    rng = np.random.default_rng(0)
    room = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    darker = (room * 0.6).astype(np.uint8)  # flicker: same shot
    field = np.zeros_like(room)
    field[..., 1] = 200  # a green field: a new shot
    signatures = [shots.colour_signature(i) for i in (room, darker, field)]
    distances = [shots.cut_distance(None, signatures[0])] + [
        shots.cut_distance(a, b) for a, b in zip(signatures, signatures[1:], strict=False)]
    assert distances[0] == 0.0
    assert distances[1] < shots.CUT_DISTANCE < distances[2]
    assert shots.shot_ids(distances).tolist() == [0, 0, 1]


def test_the_clustering_resource_offers_every_algorithm():
    from typing import get_args

    from moviefaces_dag.defs.resources import ClusteringResource

    offered = get_args(ClusteringResource.model_fields["algorithm"].annotation)
    assert set(offered) == set(ALGORITHMS)
    assert ClusteringResource().settings() == ClusterSettings()


@pytest.mark.parametrize("algorithm", ["average", "complete", "greedy"])
def test_answers_bind_the_grouping_must_links_join_and_cannot_links_part(algorithm):
    from moviefaces_dag.people.constraints import Constraints

    vectors, truth = _people([6, 6, 6])
    frames = np.arange(len(vectors))
    settings = ClusterSettings(algorithm=algorithm, min_faces=1)
    plain = cluster_embeddings(vectors, frames, settings, "sface")
    assert len(set(plain[truth == 0])) == 1 and plain[0] != plain[6]
    # "yes, one person" about three faces of each: those faces are one person
    shown = [0, 1, 2, 6, 7, 8]
    joined = cluster_embeddings(vectors, frames, settings, "sface", None,
                                Constraints(together=(frozenset(shown),)))
    assert len(set(joined[shown])) == 1 and joined[0] != joined[12]
    # "no": faces 0-2 and 3-5 of one person are never grouped together again, even at a
    # threshold that would put everyone in one person
    loose = ClusterSettings(algorithm=algorithm, min_faces=1, similarity_threshold=-1.0)
    apart = Constraints(apart=((frozenset({0, 1, 2}), frozenset({3, 4, 5})),))
    parted = cluster_embeddings(vectors, frames, loose, "sface", None, apart)
    assert not set(parted[:3]) & set(parted[3:6])
    assert len(set(cluster_embeddings(vectors, frames, loose, "sface")[:6])) == 1


def test_units_sum_their_faces_to_the_last_bit_as_added_one_by_one():
    # Each unit's faces added one by one in row order, as np.add.at adds them: a faster sum must
    # not move any grouping by a bit.
    from moviefaces_dag.people.linkage import Units

    rng = np.random.default_rng(3)
    vectors = (rng.normal(size=(300, DIM)) * 10.0 ** rng.uniform(-12, 12, (300, 1))
               ).astype(np.float32)
    unit_of = rng.integers(0, 40, 300)
    unit_of[unit_of == 7] = 8  # a unit with no face left
    core = rng.random(300) < 0.5
    units = Units.build(vectors, np.arange(300), unit_of, core, np.ones(300))
    for sums, rows in ((units.all_sum, np.ones(300, bool)), (units.core_sum, core)):
        expected = np.zeros((40, DIM))
        np.add.at(expected, unit_of[rows], vectors[rows])
        assert sums.dtype == np.float64 and np.array_equal(sums.view(np.uint64),
                                                           expected.view(np.uint64))
    none = Units.build(vectors, np.arange(300), unit_of, np.zeros(300, bool), np.ones(300))
    assert none.core_sum.shape == (40, DIM) and not none.core_sum.any()
