"""The clustering algorithms over must-link units: average and complete linkage, greedy online
centroids, DBSCAN and HDBSCAN, each refusing to put two faces of one frame in one group."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .graph import DisjointSets, neighbour_edges, unit_rows

NEIGHBOURS = 12  # nearest-neighbour edges per unit along which merges are tried
DENSITY_MIN_SAMPLES = 3  # dbscan / hdbscan: faces needed to make a core point / a cluster
SKLEARN_WORKING_MIB = 64  # dbscan's pairwise-distance blocks
QUALITY_SLOPE = 0.2  # average linkage: the bar rises by this x the two groups' mean qualities


@dataclass
class Units:
    """Faces grouped into must-link units: sums over their good faces, and all their frames."""

    core_sum: np.ndarray  # (m, d) sum of the unit's good-face vectors
    core_count: np.ndarray  # (m,)
    core_quality: np.ndarray  # (m,) sum of the good faces' quality
    all_sum: np.ndarray  # (m, d) sum over every face (for units with no good face)
    face_count: np.ndarray  # (m,)
    frames: list[set]
    best_score: np.ndarray  # (m,) highest detection score of the unit's faces

    @property
    def size(self) -> int:
        return len(self.face_count)

    @classmethod
    def build(cls, vectors: np.ndarray, frame_ids: np.ndarray, unit_of: np.ndarray,
              core: np.ndarray, quality: np.ndarray, score: np.ndarray | None = None) -> Units:
        m = int(unit_of.max()) + 1
        core_sum = _unit_sums(vectors[core], unit_of[core], m)
        all_sum = _unit_sums(vectors, unit_of, m)
        frames: list[set] = [set() for _ in range(m)]
        for unit, frame in zip(unit_of.tolist(), frame_ids.tolist(), strict=True):
            frames[unit].add(frame)
        core_quality = np.bincount(unit_of[core], weights=quality[core], minlength=m)
        best_score = np.ones(m)
        if score is not None:
            best_score = np.zeros(m)
            np.maximum.at(best_score, unit_of, score)
        return cls(core_sum, np.bincount(unit_of[core], minlength=m), core_quality, all_sum,
                   np.bincount(unit_of, minlength=m), frames, best_score)


def _unit_sums(rows: np.ndarray, unit_of: np.ndarray, m: int) -> np.ndarray:
    """(m, d) float64 sum of each unit's rows, added in row order as np.add.at adds them (to
    the last bit), a column at a time: ~10x faster than np.add.at on rows (the review queue
    regroups after every answer)."""
    sums = np.zeros((m, rows.shape[1]), np.float64)
    for j, column in enumerate(rows.T):
        sums[:, j] = np.bincount(unit_of, weights=column, minlength=m)
    return sums


def cluster_units(units: Units, idx: np.ndarray, threshold: float,
                   algorithm: str) -> np.ndarray:
    """Labels for the good units `idx` (any integers; -1 = noise) under the chosen algorithm."""
    if len(idx) == 0:
        return np.zeros(0, dtype=np.int64)
    sums, counts = units.core_sum[idx], units.core_count[idx]
    frames = [units.frames[i] for i in idx]
    means = unit_rows(sums)
    if algorithm == "average":
        return _agglomerate(_AverageLink(sums, counts, units.core_quality[idx]), means, frames,
                            threshold)
    if algorithm == "complete":
        return _agglomerate(_CompleteLink(sums), means, frames, threshold)
    if algorithm == "greedy":
        return _greedy(sums, counts, frames, threshold)
    if len(idx) == 1:
        raw = np.zeros(1, dtype=np.int64)
    elif algorithm == "dbscan":
        from sklearn import config_context
        from sklearn.cluster import DBSCAN

        with config_context(working_memory=SKLEARN_WORKING_MIB):  # distance blocks, not n x n
            raw = DBSCAN(eps=1.0 - threshold, min_samples=DENSITY_MIN_SAMPLES, metric="cosine",
                         algorithm="brute").fit_predict(means, sample_weight=counts)
    else:
        from sklearn.cluster import HDBSCAN

        raw = HDBSCAN(min_cluster_size=DENSITY_MIN_SAMPLES, min_samples=DENSITY_MIN_SAMPLES,
                      copy=True).fit_predict(means)
    return _split_conflicts(raw, means, frames)


class _AverageLink:
    """Mean face-pair similarity of two groups, exact from their sums and sizes, less
    QUALITY_SLOPE x the product of their mean face qualities: clear faces of one person are more
    alike than degraded ones, so clear groups must clear a higher bar."""

    def __init__(self, sums: np.ndarray, counts: np.ndarray, quality: np.ndarray):
        self.sums = sums.astype(np.float64)
        self.counts = counts.astype(np.float64)
        self.quality = quality.astype(np.float64)

    def links(self, a: int, others: list[int]) -> np.ndarray:
        size = self.counts[others] * self.counts[a]
        mean = self.sums[others] @ self.sums[a] / size
        return mean - QUALITY_SLOPE * self.quality[others] * self.quality[a] / size

    def merge(self, a: int, b: int) -> None:
        self.sums[a] += self.sums[b]
        self.counts[a] += self.counts[b]
        self.quality[a] += self.quality[b]


class _CompleteLink:
    """Least similarity between the units of two groups."""

    def __init__(self, sums: np.ndarray):
        self.means = unit_rows(sums)
        self.members: list[list[int]] = [[i] for i in range(len(sums))]

    def links(self, a: int, others: list[int]) -> np.ndarray:
        mine = self.means[self.members[a]]
        return np.array([float((self.means[self.members[c]] @ mine.T).min()) for c in others])

    def merge(self, a: int, b: int) -> None:
        self.members[a].extend(self.members[b])
        self.members[b] = []


def _agglomerate(linkage: _AverageLink | _CompleteLink, means: np.ndarray, frames: list[set],
                 threshold: float) -> np.ndarray:
    """Merge the two groups with the highest link while it is >= threshold and they share no
    frame; pairs are tried along nearest-neighbour edges only."""
    n = len(means)
    frames = [set(f) for f in frames]
    a_idx, b_idx = neighbour_edges(means, NEIGHBOURS, threshold - 0.2)
    neighbours: list[set] = [set() for _ in range(n)]
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    version = np.zeros(n, dtype=np.int64)
    sets = DisjointSets(n)
    heap: list = []

    def push(a: int, others: list[int]) -> None:
        if not others:
            return
        for c, link in zip(others, linkage.links(a, others).tolist(), strict=True):
            if link >= threshold and frames[a].isdisjoint(frames[c]):
                heapq.heappush(heap, (-link, a, c, version[a], version[c]))

    for a in range(n):
        push(a, [c for c in neighbours[a] if c > a])
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if version[a] != va or version[b] != vb:
            continue
        if len(frames[a]) < len(frames[b]):
            a, b = b, a
        linkage.merge(a, b)
        frames[a] |= frames[b]
        sets.parent[b] = a
        version[a] += 1
        version[b] = -1  # b is gone: every heap entry naming it is stale
        merged = {sets.find(c) for c in neighbours[a] | neighbours[b]} - {a}
        neighbours[a], neighbours[b] = merged, set()
        push(a, sorted(merged))
    return sets.labels()


def _greedy(sums: np.ndarray, counts: np.ndarray, frames: list[set],
            threshold: float) -> np.ndarray:
    """Online centroid clustering (the seed design): biggest units first, each joins the most
    similar person mean above threshold that shares no frame with it, else starts a person."""
    means = unit_rows(sums)
    labels = np.full(len(sums), -1, dtype=np.int64)
    person_sums = np.zeros_like(sums, dtype=np.float64)
    person_means = np.zeros_like(means)
    person_frames: list[set] = []
    for i in np.argsort(-counts, kind="stable"):
        p = len(person_frames)
        sims = person_means[:p] @ means[i]
        for best in np.argsort(-sims):
            if sims[best] < threshold:
                break
            if person_frames[best].isdisjoint(frames[i]):
                labels[i] = best
                break
        if labels[i] < 0:
            labels[i] = p
            person_frames.append(set())
        k = labels[i]
        person_sums[k] += sums[i]
        person_means[k] = person_sums[k] / np.linalg.norm(person_sums[k])
        person_frames[k] |= frames[i]
    return labels


def _split_conflicts(labels: np.ndarray, means: np.ndarray, frames: list[set]) -> np.ndarray:
    """Within each group, units sharing a frame with a unit closer to the group's mean leave it
    (each as its own group); noise (-1) becomes singletons."""
    labels = labels.copy()
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for i in np.flatnonzero(labels < 0):
        labels[i], next_label = next_label, next_label + 1
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for members in np.split(order, bounds):
        if len(members) < 2:
            continue
        centre = means[members].sum(axis=0)
        seen: set = set()
        for i in members[np.argsort(-(means[members] @ centre))]:
            if seen.isdisjoint(frames[i]):
                seen |= frames[i]
            else:
                labels[i], next_label = next_label, next_label + 1
    return labels
