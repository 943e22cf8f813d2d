"""After clustering: decide from the evidence which groups are people and who the rest are.

The clustering of good faces leaves two kinds of loose ends, each settled here against fixed
person means (a person's mean never moves while others join it, so nothing that joins late can
pull two people together):

1. Groups seen in one shot: a person only when clearly seen (enough clear faces, or many faces);
   otherwise a bystander or a false detection, left unassigned.
2. Faces outside every person: they join the person they resemble when the evidence agrees
   (similarity to the person's mean, a clear margin over the next person, and several of the
   person's own units among their nearest neighbours; or a face of that person beside them in
   the same shot). The rest keep their best candidate and its similarity for the report.

A split-off appearance of a person joins it through the linkage itself, when alike enough. A
laxer join of split-off groups under the linkage bar was measured and left out: at every bar
where it joined anything on hard_a-hard_e, about half of its joins were wrong
(docs/clustering.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import unit_rows
from .linkage import Units

BLOCK = 1024  # loose units compared with every person unit at once


@dataclass(frozen=True)
class Evidence:
    """What the video says about each must-link unit, beside its embeddings."""

    shots: list[set]  # shots the unit's faces are in
    clear: np.ndarray  # (m,) faces seen clearly (sharp, frontal, big, high score)
    samples: list[set]  # sample indices of the unit's faces
    boxes: list[dict]  # sample index -> box (x, y, w, h) of the unit's face there
    widest: np.ndarray  # (m,) width of the unit's widest face, px


@dataclass(frozen=True)
class AssignRule:
    strong: float  # similarity to a person's mean that alone suffices
    weak: float  # similarity that suffices with a margin and neighbours agreeing
    margin: float  # best person's similarity over the next person's
    votes: int  # of the unit's nearest person units, how many must be the best person's
    track: float  # similarity enough beside a face of the person in the same shot
    min_score: float = 0.0  # the weak and track rules take only faces detected this surely
    min_px: float = 0.0  # ... and at least this wide: under it similarities mislead too often


def build_evidence(unit_of: np.ndarray, shot: np.ndarray, sample: np.ndarray,
                   boxes: np.ndarray, clear: np.ndarray) -> Evidence:
    m = int(unit_of.max()) + 1
    shots: list[set] = [set() for _ in range(m)]
    samples: list[set] = [set() for _ in range(m)]
    where: list[dict] = [{} for _ in range(m)]
    widest = np.zeros(m)
    np.maximum.at(widest, unit_of, boxes[:, 2] if len(boxes) else np.zeros(0))
    for i, u in enumerate(unit_of.tolist()):
        shots[u].add(int(shot[i]))
        samples[u].add(int(sample[i]))
        where[u][int(sample[i])] = boxes[i]
    return Evidence(shots, np.bincount(unit_of[clear], minlength=m), samples, where, widest)


def _groups(labels: np.ndarray) -> dict[int, np.ndarray]:
    return {int(g): np.flatnonzero(labels == g) for g in np.unique(labels[labels >= 0])}


def keep_evident(units: Units, labels: np.ndarray, evidence: Evidence, min_shots: int,
                 lone_faces: int, lone_clear: int) -> np.ndarray:
    """Groups seen in fewer than min_shots shots stay people only with lone_faces faces or
    lone_clear clearly seen faces; the others are left unassigned."""
    labels = labels.copy()
    for members in _groups(labels).values():
        if len(set().union(*(evidence.shots[u] for u in members))) >= min_shots:
            continue
        if units.face_count[members].sum() >= lone_faces:
            continue
        if evidence.clear[members].sum() >= lone_clear:
            continue
        labels[members] = -1
    return labels


def _beside(evidence: Evidence, u: int, v: int) -> bool:
    """Unit u has a face in a sample next to one of v's, in one shot, at about the same place."""
    for s, box in evidence.boxes[u].items():
        for t in (s - 1, s + 1):
            other = evidence.boxes[v].get(t)
            if other is None:
                continue
            moved = np.hypot(box[0] + box[2] / 2 - other[0] - other[2] / 2,
                             box[1] + box[3] / 2 - other[1] - other[3] / 2)
            if moved <= max(box[2], other[2]) and evidence.shots[u] & evidence.shots[v]:
                return True
    return False


def assign_rest(units: Units, labels: np.ndarray, evidence: Evidence, rule: AssignRule,
                min_faces: int, neighbours: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units outside every person (and groups under min_faces) join a person by evidence.

    Returns (labels, candidate person, candidate similarity) per unit; the candidate is the
    best person for every unit left out (-1 and NaN where there is none, or for assigned ones).
    """
    labels = labels.copy()
    groups = {g: m for g, m in _groups(labels).items()
              if units.face_count[m].sum() >= min_faces}
    candidate = np.full(units.size, -1, dtype=np.int64)
    similarity = np.full(units.size, np.nan)
    for g in set(_groups(labels)) - set(groups):
        labels[labels == g] = -1
    rest = np.flatnonzero(labels < 0)
    if not groups or len(rest) == 0:
        return labels, candidate, similarity
    names = np.array(list(groups))
    means = unit_rows(np.array([units.core_sum[groups[g]].sum(axis=0) for g in names]))
    frames = [set().union(*(units.frames[u] for u in groups[g])) for g in names]
    members = np.concatenate([groups[g] for g in names])
    member_person = np.concatenate([np.full(len(groups[g]), k) for k, g in enumerate(names)])
    member_means = unit_rows(units.core_sum[members])
    mine = unit_rows(units.all_sum[rest])
    k_near = min(neighbours, len(members))
    decisions = []
    for start in range(0, len(rest), BLOCK):  # blocks: memory O(block x units), never n x n
        sims = mine[start:start + BLOCK] @ means.T
        near = mine[start:start + BLOCK] @ member_means.T
        top = np.argpartition(-near, k_near - 1, axis=1)[:, :k_near]
        for row, u in enumerate(rest[start:start + BLOCK].tolist()):
            order = np.argsort(-sims[row])
            best = int(order[0])
            second = sims[row, order[1]] if len(order) > 1 else -1.0
            votes = int(np.sum(member_person[top[row]] == best))
            enough_votes = votes >= min(rule.votes, len(groups[names[best]]))
            s = float(sims[row, best])
            clear_lead = (units.best_score[u] >= rule.min_score and s - second >= rule.margin
                          and evidence.widest[u] >= rule.min_px)
            ok = s >= rule.strong or (clear_lead and s >= rule.weak and enough_votes) or (
                clear_lead and s >= rule.track
                and any(_beside(evidence, u, v) for v in groups[names[best]]))
            candidate[u], similarity[u] = names[best], s
            decisions.append((-s, u, best, ok))
    for _, u, best, ok in sorted(decisions):
        if ok and frames[best].isdisjoint(units.frames[u]):
            labels[u] = names[best]
            frames[best] |= units.frames[u]
            candidate[u], similarity[u] = -1, np.nan
    return labels, candidate, similarity
