"""Grouping face embeddings into people (the steps live beside it, in `moviefaces_dag.people`).

Every algorithm runs on the same footing:

1. Must-link: faces in consecutive samples of one shot, at about the same place and similar
   enough, are one person; such chains (tracklets) are clustered as units.
2. Quality gate: only units holding a face of good enough quality (score, size, sharpness,
   contrast, pose; see faces.quality; and the embedding's length, where the recogniser's length
   tracks how clearly it saw a face) are clustered. Low-quality faces may join a person
   afterwards, by similarity to its good faces, but never start one or bridge two.
3. Cannot-link: two faces of one frame are never the same person.
   The user's answers (people/constraints.py) add must-links (faces given to one person are one
   unit) and cannot-links (two sides said to be two people never share a group), so the rest of
   the faces are grouped around them.
4. Evidence (people/evidence.py): single-shot groups are people only when clearly seen; loose
   faces join a person
   when its mean, its nearest units or a face beside them in the shot agree, and otherwise keep
   their best candidate person and similarity.

Average linkage (the default) is exact on cosine similarity: for unit-length embeddings the mean
similarity over all face pairs of two groups is the dot product of their embedding sums divided by
both sizes, so a group is its sum and its size. Merges are only tried along nearest-neighbour
edges, so memory stays linear in the number of faces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .constraints import Constraints
from .evidence import AssignRule, assign_rest, build_evidence, keep_evident
from .graph import DisjointSets, tracklets, unit_rows
from .linkage import Units, cluster_units

ALGORITHMS = ("average", "complete", "greedy", "dbscan", "hdbscan")
DEFAULT_ALGORITHM = "average"

# Similarity thresholds per recogniser family. What the algorithm's value bounds differs: the
# mean face-pair similarity less QUALITY_SLOPE x the groups' mean qualities (average), the least
# face-pair similarity (complete), the similarity to a person's mean (greedy) or to a neighbour
# (dbscan); hdbscan needs none. "attach": the similarity to a person's mean at which a face that
# failed the quality gate joins that person on that alone; "weak": with a margin and neighbours
# agreeing; "track": beside a face of that person in the shot. SFace values chosen on
# hard_a-hard_c and cast_a (docs/clustering.md); SFace's own verification threshold is 0.363.
# ArcFace values chosen with w600k_mbf on the same movies.
DEFAULT_THRESHOLDS = {
    "sface": {"average": 0.22, "complete": 0.20, "greedy": 0.36, "dbscan": 0.45,
              "attach": 0.40, "weak": 0.32, "track": 0.22},
    "arcface": {"average": 0.10, "complete": 0.15, "greedy": 0.30, "dbscan": 0.40,
                "attach": 0.26, "weak": 0.20, "track": 0.16},
    "mobilefacenet": {"average": 0.40, "complete": 0.35, "greedy": 0.50, "dbscan": 0.58,
                      "attach": 0.55, "weak": 0.45, "track": 0.40},
}
FALLBACK_FAMILY = "sface"
# Recogniser ids of the ArcFace family that do not say so in their name.
FAMILY_ALIASES = {"w600k": "arcface", "buffalo": "arcface"}
# Raw embedding length under which a face fails the quality gate, per recogniser family. SFace's
# length tracks how recognisable a face is (hard_a/hard_b: rank correlation 0.50-0.64 with a
# face's similarity to its own identity's other appearances, against 0.43 for faces.quality), and
# real faces from false detections (AUC 0.88-0.97). ArcFace w600k_mbf's length does the same
# (hard_a-hard_c: rank correlation 0.45-0.62, AUC 0.88-0.97; real faces' median length 20, false
# detections' 12-17). Families not listed have no length gate.
DEFAULT_MIN_NORM = {"sface": 7.0, "arcface": 16.0}
# Detection score gate and the score of a clearly seen face, per detector: YuNet's scores run
# higher than SCRFD's (hard_a: real faces' median 0.73 for SCRFD-500M, whose false detections
# are rare), so SCRFD faces are gated lower. Unknown detectors get YuNet's.
DETECTOR_SCORES = {"yunet": (0.8, 0.9), "scrfd": (0.6, 0.75)}
ASSIGN_MARGIN = 0.08  # loose faces: best person's similarity over the next person's
ASSIGN_VOTES = 2  # ... and this many of their 5 nearest person units are the best person's
# A clearly seen face is at least this wide (and sharp, frontal, high score). Loose faces
# narrower than this join a person only on the attach rule: the weak and track rules put
# 26-36 px faces (false detections on hard_a, other identities on hard_d) with the wrong person.
CLEAR_PX = 40.0
# A face less sharp than this share of the sharpest face >= CLEAR_PX of its frame is out of
# focus: the background of a shot whose focus is on someone else (opencv_megamind's blurred
# second character at 0.18-0.22 beside a face at 0.5-0.9), never clearly seen. Faces of one
# shot that are all a little soft (facenet_pytorch_walkers: 0.14-0.3) all stay clear.
FOCUS_SHARE = 0.5


def _family(model_id: str | None) -> str:
    name = (model_id or "").lower()
    for alias, family in FAMILY_ALIASES.items():
        if alias in name:
            return family
    return next((f for f in DEFAULT_THRESHOLDS if f in name), FALLBACK_FAMILY)


def recognizer_family(model_id: str | None) -> str:
    """The recogniser family whose default thresholds a recogniser id gets (sface if unknown)."""
    return _family(model_id)


def default_threshold(model_id: str | None, algorithm: str = DEFAULT_ALGORITHM) -> float:
    family = _family(model_id)
    return DEFAULT_THRESHOLDS[family].get(algorithm, DEFAULT_THRESHOLDS[family]["average"])


def default_min_norm(model_id: str | None) -> float:
    """The embedding length gate for this recogniser (0.0: none)."""
    return DEFAULT_MIN_NORM.get(_family(model_id), 0.0)


@dataclass(frozen=True)
class ClusterSettings:
    similarity_threshold: float | None = None  # None: the recogniser's default for the algorithm
    min_faces: int = 2  # smaller groups stay unassigned
    algorithm: str = DEFAULT_ALGORITHM  # one of ALGORITHMS
    # The quality gate: faces under either bound may join a person but never start or bridge one.
    min_quality: float = 0.3  # faces.quality (score, sharpness, contrast, size and pose)
    min_score: float | None = None  # detection score; None: the detector's (DETECTOR_SCORES)
    min_norm: float | None = None  # raw embedding length; None: the recogniser's default
    # A group seen in fewer than min_shots shots (a bystander, a stray splinter of a person)
    # that joins no person is one only with lone_shot_faces faces (5 s on screen at 1 fps) or
    # lone_shot_clear clearly seen faces (>= 40 px, quality >= clear_quality, detection score
    # >= the detector's clear score: YuNet 0.9).
    min_shots: int = 2
    lone_shot_faces: int = 5
    lone_shot_clear: int = 2
    clear_quality: float = 0.35
    use_video: bool = True  # must-link within shots and the single-shot rule (cannot-link: always)
    use_evidence: bool = True  # loose faces join by evidence (else: by the attach rule only)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"unknown clustering algorithm {self.algorithm!r}; choose one of {ALGORITHMS}")

    def resolved(self, model_id: str | None, detector: str | None = None) -> ClusterSettings:
        """These settings with the recogniser's and detector's defaults in place of the ones
        left open."""
        return replace(
            self,
            similarity_threshold=default_threshold(model_id, self.algorithm)
            if self.similarity_threshold is None else self.similarity_threshold,
            min_norm=default_min_norm(model_id) if self.min_norm is None else self.min_norm,
            min_score=_scores(detector)[0] if self.min_score is None else self.min_score,
        )


def _scores(detector: str | None) -> tuple[float, float]:
    """(gate, clear) detection scores for this detector id."""
    name = (detector or "").lower()
    return next((v for k, v in DETECTOR_SCORES.items() if k in name), DETECTOR_SCORES["yunet"])


@dataclass(frozen=True)
class FaceContext:
    """What the video tells about each face, beside its embedding."""

    quality: np.ndarray  # (n,) 0..1, faces.quality
    score: np.ndarray  # (n,) detection score
    sample: np.ndarray  # (n,) index of the face's sampled frame: neighbours differ by one
    shot: np.ndarray  # (n,) shot number of the face's frame
    boxes: np.ndarray  # (n, 4) x, y, w, h
    norm: np.ndarray | None = None  # (n,) raw embedding length; NaN or None: unknown
    detector: str | None = None  # detector id ("yunet...", "scrfd..."): its score scale
    sharpness: np.ndarray | None = None  # (n,) faces.quality's sharpness ratio; None: unknown
    # (n,) each face's tracklet (graph.tracklets) where already found: one who groups a movie
    # again and again (the review queue, after every answer) finds them once; None: found here
    tracks: np.ndarray | None = None


@dataclass(frozen=True)
class People:
    """Per face: its person (0, 1, ... by decreasing size; -1 = unassigned) and, for the
    unassigned ones, the person they resemble most and their similarity to that person's mean
    (-1 and NaN where there is no person, and for assigned faces)."""

    labels: np.ndarray
    candidate: np.ndarray
    candidate_similarity: np.ndarray


def cluster_embeddings(
    embeddings: np.ndarray,
    frame_ids: np.ndarray,
    settings: ClusterSettings,
    model_id: str | None = None,
    context: FaceContext | None = None,
    constraints: Constraints | None = None,
) -> np.ndarray:
    """Person label per face (0, 1, ... by decreasing size; -1 = unassigned)."""
    return cluster_people(embeddings, frame_ids, settings, model_id, context,
                          constraints).labels


def cluster_people(
    embeddings: np.ndarray,
    frame_ids: np.ndarray,
    settings: ClusterSettings,
    model_id: str | None = None,
    context: FaceContext | None = None,
    constraints: Constraints | None = None,
) -> People:
    """People per face, and each unassigned face's best candidate person (see People)."""
    n = len(embeddings)
    if n == 0:
        return People(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    vectors = unit_rows(embeddings)
    frame_ids = np.asarray(frame_ids)
    settings = settings.resolved(model_id, None if context is None else context.detector)
    unit_of = np.arange(n)
    core = np.ones(n, dtype=bool)
    quality = np.ones(n)
    if context is not None:
        core = _gate(context, settings)
        quality = np.asarray(context.quality, dtype=np.float64)
        if settings.use_video and context.tracks is not None:
            unit_of = np.unique(np.asarray(context.tracks), return_inverse=True)[1].reshape(-1)
        elif settings.use_video:
            unit_of = tracklets(vectors, frame_ids, context.sample, context.shot, context.boxes)
    if constraints:  # on row numbers
        unit_of = _must_link(unit_of, constraints.together)
    units = Units.build(vectors, frame_ids, unit_of, core, quality,
                        None if context is None else np.asarray(context.score, np.float64))
    if constraints:
        _cannot_link(units, unit_of, constraints.apart)
    core_units = np.flatnonzero(units.core_count > 0)
    labels = np.full(units.size, -1, dtype=np.int64)
    labels[core_units] = cluster_units(units, core_units, settings.similarity_threshold,
                                       settings.algorithm)
    labels, candidate, similarity = _settle(units, labels, unit_of, vectors, context, settings,
                                            model_id)
    return _relabel_by_size(labels[unit_of], candidate[unit_of], similarity[unit_of],
                            settings.min_faces)


def _must_link(unit_of: np.ndarray, together: tuple[frozenset[int], ...]) -> np.ndarray:
    """Units joined so that each set of rows the user put in one person is one unit."""
    sets = DisjointSets(int(unit_of.max()) + 1)
    for rows in together:
        first, *rest = sorted(int(unit_of[r]) for r in rows)
        for unit in rest:
            sets.union(first, unit)
    _, joined = np.unique(sets.labels()[unit_of], return_inverse=True)
    return joined.reshape(-1)


def _cannot_link(units: Units, unit_of: np.ndarray,
                 apart: tuple[tuple[frozenset[int], frozenset[int]], ...]) -> None:
    """Each pair of units on two sides the user kept apart shares a token in its frames, as
    two faces of one frame do: no step ever puts them in one group."""
    token = -1  # frame ids are never negative
    for one, two in apart:
        left = {int(unit_of[r]) for r in one}
        right = {int(unit_of[r]) for r in two}
        for a in left - right:  # a unit on both sides (a later must-link) is left alone
            for b in right - left:
                units.frames[a].add(token)
                units.frames[b].add(token)
                token -= 1


def _gate(context: FaceContext, settings: ClusterSettings) -> np.ndarray:
    """Faces good enough to start or bridge a person."""
    core = (np.asarray(context.quality) >= settings.min_quality) & \
           (np.asarray(context.score) >= settings.min_score)
    if context.norm is not None:
        core &= ~(np.asarray(context.norm, dtype=np.float64) < settings.min_norm)  # NaN: pass
    return core


def _clear(context: FaceContext, settings: ClusterSettings) -> np.ndarray:
    """Faces seen clearly: a person seen in one shot is one with enough of them."""
    boxes = np.asarray(context.boxes, dtype=np.float64).reshape(-1, 4)
    clear_score = _scores(context.detector)[1]
    big = np.minimum(boxes[:, 2], boxes[:, 3]) >= CLEAR_PX
    clear = _gate(context, settings) & (np.asarray(context.score) >= clear_score) & \
        (np.asarray(context.quality) >= settings.clear_quality) & big
    if context.sharpness is not None and clear.any():
        sharpness = np.asarray(context.sharpness, dtype=np.float64)
        sample = np.asarray(context.sample)
        sharpest = np.zeros(int(sample.max()) + 1)
        np.maximum.at(sharpest, sample[big], sharpness[big])
        clear &= sharpness >= FOCUS_SHARE * sharpest[sample]
    return clear


def _settle(units: Units, labels: np.ndarray, unit_of: np.ndarray, vectors: np.ndarray,
            context: FaceContext | None, settings: ClusterSettings,
            model_id: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evidence steps on the clustered units: (labels, candidate, similarity) per unit."""
    def t(name: str) -> float:
        return default_threshold(model_id, name)

    video = context is not None and settings.use_video
    if video:
        evidence = build_evidence(unit_of, np.asarray(context.shot), np.asarray(context.sample),
                                  np.asarray(context.boxes, dtype=np.float64).reshape(-1, 4),
                                  _clear(context, settings))
    else:  # no shots: every unit is its own shot, and nothing is beside anything
        boxes = np.zeros((len(unit_of), 4)) if context is None else \
            np.asarray(context.boxes, dtype=np.float64).reshape(-1, 4)
        evidence = build_evidence(unit_of, unit_of, np.arange(len(unit_of)) * 2, boxes,
                                  np.zeros(len(unit_of), bool))
    if video:
        labels = keep_evident(units, labels, evidence, settings.min_shots,
                              settings.lone_shot_faces, settings.lone_shot_clear)
    if settings.use_evidence:
        rule = AssignRule(t("attach"), t("weak"), ASSIGN_MARGIN, ASSIGN_VOTES, t("track"),
                          settings.min_score, CLEAR_PX)
    else:  # the attach rule alone: similarity to the person's mean
        rule = AssignRule(t("attach"), 2.0, 0.0, 0, 2.0)
    return assign_rest(units, labels, evidence, rule, settings.min_faces)


def _relabel_by_size(labels: np.ndarray, candidate: np.ndarray, similarity: np.ndarray,
                     min_faces: int) -> People:
    """0, 1, ... by decreasing group size; groups under min_faces (and -1) become -1, and the
    candidates follow their person's new number."""
    out = np.full(len(labels), -1, dtype=np.int64)
    assigned = labels >= 0
    values, inverse, counts = np.unique(labels[assigned], return_inverse=True,
                                        return_counts=True)
    rank = np.full(len(values), -1, dtype=np.int64)
    big = np.flatnonzero(counts >= min_faces)
    rank[big[np.argsort(-counts[big], kind="stable")]] = np.arange(len(big))
    out[assigned] = rank[inverse.reshape(-1)]
    new_of = dict(zip(values.tolist(), rank.tolist(), strict=True))
    cand = np.array([new_of.get(int(c), -1) for c in candidate], dtype=np.int64)
    sim = np.where((out < 0) & (cand >= 0), similarity, np.nan)
    return People(out, np.where(out < 0, cand, -1), sim)
