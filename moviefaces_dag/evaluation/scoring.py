"""Scoring one movie's faces and people against its ground truth: detection and identity."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from ..store import MovieDB
from . import metrics
from .matching import match_boxes
from .truth import GroundTruth, TruthError

MIN_PX = 40.0  # true faces at least this wide get their own recall figure


@dataclass(frozen=True)
class PredictedFace:
    box: tuple[float, float, float, float]  # x, y, w, h
    person: int | None  # None: unassigned


@dataclass(frozen=True)
class FramePrediction:
    time: float  # seconds into the movie
    faces: list[PredictedFace]


@dataclass
class DetectionScore:
    true_faces: int
    found: int
    recall: float
    true_faces_min_px: int
    found_min_px: int
    recall_min_px: float
    detections: int
    real_detections: int
    precision: float
    assigned: int  # detections assigned to a person
    assigned_real: int
    assigned_precision: float  # of the faces assigned to people, the share that are real faces
    missed_by_identity: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class IdentityScore:
    faces: int  # true faces found (the items scored here)
    unassigned: int  # of those, left without a person (each counts as a singleton)
    bcubed: metrics.PRF
    pairwise: metrics.PRF
    nmi: float
    purity: float
    people_found: int  # predicted people with at least 2 faces
    true_people: int  # identities on the sampled frames
    same_frame_merges: int  # pairs of faces of one frame given the same person
    split: dict[str, dict[str, int]] = field(default_factory=dict)  # identity -> person -> faces
    merged: dict[str, dict[str, int]] = field(default_factory=dict)  # person -> identity -> faces


@dataclass
class MovieScore:
    frames: int
    min_px: float
    detection: DetectionScore
    identity: IdentityScore

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def score_movie(
    frames: list[FramePrediction], truth: GroundTruth, min_px: float = MIN_PX
) -> MovieScore:
    """Match each frame's predicted boxes to its true faces one-to-one, then score."""
    true_ids: list[str] = []
    pred_ids: list[int | None] = []
    totals: Counter = Counter()
    missed: Counter = Counter()
    found = found_px = total_px = detections = real = assigned = assigned_real = merges = 0
    people_sizes: Counter = Counter()
    for frame in frames:
        true_faces = truth.faces_at(frame.time)
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (f.box for f in frame.faces)]
        pairs = dict(match_boxes(boxes, [t.box for t in true_faces]))  # pred -> true
        matched_true = set(pairs.values())
        for j, face in enumerate(true_faces):
            totals[face.identity] += 1
            hit = j in matched_true
            missed[face.identity] += not hit
            found += hit
            if face.width_px >= min_px:
                total_px += 1
                found_px += hit
        detections += len(frame.faces)
        real += len(pairs)
        persons = Counter(f.person for f in frame.faces if f.person is not None)
        merges += sum(metrics.pair_count(c) for c in persons.values())
        for i, face in enumerate(frame.faces):
            if face.person is not None:
                people_sizes[face.person] += 1
                assigned += 1
                assigned_real += i in pairs
            if i in pairs:
                true_ids.append(true_faces[pairs[i]].identity)
                pred_ids.append(face.person)
    n_true = sum(totals.values())
    detection = DetectionScore(
        true_faces=n_true, found=found, recall=_ratio(found, n_true),
        true_faces_min_px=total_px, found_min_px=found_px, recall_min_px=_ratio(found_px, total_px),
        detections=detections, real_detections=real, precision=_ratio(real, detections),
        assigned=assigned, assigned_real=assigned_real,
        assigned_precision=_ratio(assigned_real, assigned),
        missed_by_identity={k: {"missed": missed[k], "total": totals[k]} for k in sorted(totals)},
    )
    identity = IdentityScore(
        faces=len(true_ids), unassigned=sum(p is None for p in pred_ids),
        bcubed=metrics.bcubed(true_ids, pred_ids), pairwise=metrics.pairwise(true_ids, pred_ids),
        nmi=metrics.nmi(true_ids, pred_ids), purity=metrics.purity(true_ids, pred_ids),
        people_found=sum(1 for c in people_sizes.values() if c >= 2),
        true_people=len(totals), same_frame_merges=merges,
        split=_spread(true_ids, pred_ids), merged=_mixed(true_ids, pred_ids),
    )
    return MovieScore(len(frames), min_px, detection, identity)


def _spread(true_ids: list[str], pred_ids: list[int | None]) -> dict[str, dict[str, int]]:
    """Identities whose found faces went to more than one person."""
    by_identity: dict[str, Counter] = defaultdict(Counter)
    for t, p in zip(true_ids, pred_ids, strict=True):
        if p is not None:
            by_identity[t][f"person {p}"] += 1
    return {t: dict(c) for t, c in sorted(by_identity.items()) if len(c) > 1}


def _mixed(true_ids: list[str], pred_ids: list[int | None]) -> dict[str, dict[str, int]]:
    """People holding faces of more than one identity."""
    by_person: dict[int, Counter] = defaultdict(Counter)
    for t, p in zip(true_ids, pred_ids, strict=True):
        if p is not None:
            by_person[p][t] += 1
    return {f"person {p}": dict(c) for p, c in sorted(by_person.items()) if len(c) > 1}


def predictions_from_store(db: MovieDB) -> list[FramePrediction]:
    """Every sampled frame of the movie with its detected faces and their people."""
    by_frame: dict[int, list[PredictedFace]] = defaultdict(list)
    for face in db.faces():
        by_frame[face.frame_id].append(PredictedFace(face.box, face.person_id))
    return [FramePrediction(f.time, by_frame.get(f.id, [])) for f in db.frames()]


def score_rows(score: MovieScore) -> list[tuple[str, str]]:
    """(measure, value) pairs for a readable table."""
    d, i = score.detection, score.identity
    return [
        ("frames scored", f"{score.frames}"),
        ("detection recall", f"{d.recall:.3f} ({d.found}/{d.true_faces})"),
        (f"recall, faces >= {score.min_px:g} px",
         f"{d.recall_min_px:.3f} ({d.found_min_px}/{d.true_faces_min_px})"),
        ("detection precision", f"{d.precision:.3f} ({d.real_detections}/{d.detections})"),
        ("assigned faces that are real",
         f"{d.assigned_precision:.3f} ({d.assigned_real}/{d.assigned})"),
        ("BCubed P / R / F1",
         f"{i.bcubed.precision:.3f} / {i.bcubed.recall:.3f} / {i.bcubed.f1:.3f}"),
        ("pairwise P / R / F1",
         f"{i.pairwise.precision:.3f} / {i.pairwise.recall:.3f} / {i.pairwise.f1:.3f}"),
        ("NMI", f"{i.nmi:.3f}"),
        ("weighted purity", f"{i.purity:.3f}"),
        ("people found / true", f"{i.people_found} / {i.true_people}"),
        ("found faces unassigned", f"{i.unassigned} of {i.faces}"),
        ("same-frame merges", f"{i.same_frame_merges}"),
        ("identities split", f"{len(i.split)}"),
        ("people merging identities", f"{len(i.merged)}"),
    ]


def format_table(score: MovieScore, about: list[tuple[str, str]] | None = None) -> str:
    """The scores as a readable table, after the rows `about` (what was scored)."""
    rows = [*(about or []), *score_rows(score)]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    for title, groups in (("split", score.identity.split), ("merged", score.identity.merged)):
        for name, parts in groups.items():
            spread = ", ".join(f"{k}: {v}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
            lines.append(f"  {title} {name}: {spread}")
    missed = {k: v for k, v in score.detection.missed_by_identity.items() if v["missed"]}
    if missed:
        lines.append("missed true faces by identity: " + ", ".join(
            f"{k} {v['missed']}/{v['total']}" for k, v in missed.items()))
    return "\n".join(lines)


def evaluate_stored(db: MovieDB, truth: GroundTruth, min_px: float = MIN_PX) -> MovieScore:
    """Score a movie's stored faces and people (the Python API behind `moviefaces eval`): its
    published result, or a draft's."""
    movie = db.movie()
    if "face_clusters" not in db.stage_runs():
        raise TruthError(f"movie {movie.key!r} has no people yet; run `moviefaces run` on it")
    if truth.size and movie.width and truth.size != (movie.width, movie.height):
        raise TruthError(f"the ground truth is for a {truth.size[0]}x{truth.size[1]} video but "
                         f"{movie.path} is {movie.width}x{movie.height}")
    return score_movie(predictions_from_store(db), truth, min_px)
