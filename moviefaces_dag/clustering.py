"""Grouping face embeddings into people.

Every algorithm runs on the same footing:

1. Must-link: faces in consecutive samples of one shot, at about the same place and similar
   enough, are one person; such chains (tracklets) are clustered as units.
2. Quality gate: only units holding a face of good enough quality (score, size, sharpness,
   pose; see faces.quality; and the embedding's length, where the recogniser's length tracks how
   clearly it saw a face) are clustered. Low-quality faces may join a person afterwards, by
   similarity to its good faces, but never start one or bridge two.
3. Cannot-link: two faces of one frame are never the same person.

Average linkage (the default) is exact on cosine similarity: for unit-length embeddings the mean
similarity over all face pairs of two groups is the dot product of their embedding sums divided by
both sizes, so a group is its sum and its size. Merges are only tried along nearest-neighbour
edges, so memory stays linear in the number of faces.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

import numpy as np

ALGORITHMS = ("average", "complete", "greedy", "dbscan", "hdbscan")
DEFAULT_ALGORITHM = "average"

# Similarity threshold per recogniser family and algorithm. What it bounds differs: the mean
# face-pair similarity less QUALITY_SLOPE x the groups' mean qualities (average), the least
# face-pair similarity (complete), the similarity to a person's mean (greedy) or to a neighbour
# (dbscan); hdbscan needs none. "attach": the similarity to a person's mean at which a face that
# failed the quality gate joins that person (every algorithm). The SFace values were chosen on
# hard_a/hard_b and cast_a (docs/clustering.md); SFace's own verification threshold is 0.363.
# ArcFace separates identities more widely, so its values sit lower (not tuned here).
DEFAULT_THRESHOLDS = {
    "sface": {"average": 0.22, "complete": 0.20, "greedy": 0.36, "dbscan": 0.45,
              "attach": 0.40},
    "arcface": {"average": 0.20, "complete": 0.15, "greedy": 0.30, "dbscan": 0.40,
                "attach": 0.35},
    "mobilefacenet": {"average": 0.40, "complete": 0.35, "greedy": 0.50, "dbscan": 0.58,
                      "attach": 0.55},
}
FALLBACK_FAMILY = "sface"
# Raw embedding length under which a face fails the quality gate, per recogniser family. SFace's
# length tracks how recognisable a face is (hard_a/hard_b: rank correlation 0.50-0.64 with a
# face's similarity to its own identity's other appearances, against 0.43 for faces.quality), and
# real faces from false detections (AUC 0.88-0.97). Families not listed have no length gate.
DEFAULT_MIN_NORM = {"sface": 7.0}
NEIGHBOURS = 12  # nearest-neighbour edges per unit along which merges are tried
DENSITY_MIN_SAMPLES = 3  # dbscan / hdbscan: faces needed to make a core point / a cluster
SKLEARN_WORKING_MIB = 64  # dbscan's pairwise-distance blocks
QUALITY_SLOPE = 0.2  # average linkage: the bar rises by this x the two groups' mean qualities
MUST_LINK_SIMILARITY = 0.25  # consecutive samples of one shot at one place: same person above this
MUST_LINK_MOVE = 0.6  # ... when the box centres moved less than this share of the face width


def _family(model_id: str | None) -> str:
    name = (model_id or "").lower()
    return next((f for f in DEFAULT_THRESHOLDS if f in name), FALLBACK_FAMILY)


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
    min_quality: float = 0.3  # faces.quality (score, sharpness, size and pose together)
    min_score: float = 0.8  # detection score: false detections mostly score under it
    min_norm: float | None = None  # raw embedding length; None: the recogniser's default
    # A group seen in fewer than min_shots shots (a bystander, a stray splinter of a person)
    # stays unassigned unless it holds at least lone_shot_faces faces (5 s on screen at 1 fps)
    # or its faces' median quality reaches lone_shot_quality (seen clearly).
    min_shots: int = 2
    lone_shot_faces: int = 5
    lone_shot_quality: float = 0.55
    use_video: bool = True  # must-link within shots and the single-shot rule (cannot-link: always)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"unknown clustering algorithm {self.algorithm!r}; choose one of {ALGORITHMS}")

    def resolved(self, model_id: str | None) -> ClusterSettings:
        """These settings with the recogniser's defaults in place of the ones left open."""
        return replace(
            self,
            similarity_threshold=self.similarity_threshold
            or default_threshold(model_id, self.algorithm),
            min_norm=default_min_norm(model_id) if self.min_norm is None else self.min_norm,
        )


@dataclass(frozen=True)
class FaceContext:
    """What the video tells about each face, beside its embedding."""

    quality: np.ndarray  # (n,) 0..1, faces.quality
    score: np.ndarray  # (n,) detection score
    sample: np.ndarray  # (n,) index of the face's sampled frame: neighbours differ by one
    shot: np.ndarray  # (n,) shot number of the face's frame
    boxes: np.ndarray  # (n, 4) x, y, w, h
    norm: np.ndarray | None = None  # (n,) raw embedding length; NaN or None: unknown


def cluster_embeddings(
    embeddings: np.ndarray,
    frame_ids: np.ndarray,
    settings: ClusterSettings,
    model_id: str | None = None,
    context: FaceContext | None = None,
) -> np.ndarray:
    """Person label per face (0, 1, ... by decreasing size; -1 = unassigned)."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    vectors = _unit_rows(embeddings)
    frame_ids = np.asarray(frame_ids)
    settings = settings.resolved(model_id)
    unit_of = np.arange(n)
    core = np.ones(n, dtype=bool)
    if context is not None:
        core = (np.asarray(context.quality) >= settings.min_quality) & \
               (np.asarray(context.score) >= settings.min_score)
        if context.norm is not None:
            core &= ~(np.asarray(context.norm, dtype=np.float64) < settings.min_norm)  # NaN: pass
        if settings.use_video:
            unit_of = _tracklets(vectors, frame_ids, context)
    quality = np.ones(n) if context is None else np.asarray(context.quality, dtype=np.float64)
    units = _Units.build(vectors, frame_ids, unit_of, core, quality)
    core_units = np.flatnonzero(units.core_count > 0)
    labels = np.full(units.size, -1, dtype=np.int64)
    labels[core_units] = _cluster_units(units, core_units, settings.similarity_threshold, settings)
    labels = _attach_low(units, labels, default_threshold(model_id, "attach"))[unit_of]
    if context is not None and settings.use_video:
        labels = _drop_rare(labels, np.asarray(context.shot), quality, settings)
    return _relabel_by_size(labels, settings.min_faces)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class _DisjointSets:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(b)] = self.find(a)

    def labels(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)


def _tracklets(vectors: np.ndarray, frame_ids: np.ndarray, ctx: FaceContext) -> np.ndarray:
    """Unit number per face: chains of one-to-one links between consecutive samples of a shot."""
    sample, shot, boxes = np.asarray(ctx.sample), np.asarray(ctx.shot), np.asarray(ctx.boxes)
    by_sample: dict[int, list[int]] = {}
    for i in np.argsort(sample, kind="stable"):
        by_sample.setdefault(int(sample[i]), []).append(int(i))
    sets = _DisjointSets(len(vectors))
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    for s, here in by_sample.items():
        after = [j for j in by_sample.get(s + 1, []) if shot[j] == shot[here[0]]]
        if not after:
            continue
        sims = vectors[here] @ vectors[after].T
        moved = np.linalg.norm(centres[here][:, None] - centres[after][None], axis=2)
        width = np.maximum(boxes[here, 2][:, None], boxes[after, 2][None])
        ratio = boxes[here, 2][:, None] / np.maximum(boxes[after, 2][None], 1e-6)
        ok = (sims >= MUST_LINK_SIMILARITY) & (moved <= MUST_LINK_MOVE * width) & \
             (ratio >= 2 / 3) & (ratio <= 3 / 2)
        used_a, used_b = set(), set()
        for flat in np.argsort(-sims, axis=None):
            a, b = np.unravel_index(flat, sims.shape)
            if ok[a, b] and a not in used_a and b not in used_b:
                sets.union(here[a], after[b])
                used_a.add(a)
                used_b.add(b)
    _, unit_of = np.unique(sets.labels(), return_inverse=True)
    return unit_of.reshape(-1)


@dataclass
class _Units:
    """Faces grouped into must-link units: sums over their good faces, and all their frames."""

    core_sum: np.ndarray  # (m, d) sum of the unit's good-face vectors
    core_count: np.ndarray  # (m,)
    core_quality: np.ndarray  # (m,) sum of the good faces' quality
    all_sum: np.ndarray  # (m, d) sum over every face (for units with no good face)
    face_count: np.ndarray  # (m,)
    frames: list[set]

    @property
    def size(self) -> int:
        return len(self.face_count)

    @classmethod
    def build(cls, vectors: np.ndarray, frame_ids: np.ndarray, unit_of: np.ndarray,
              core: np.ndarray, quality: np.ndarray) -> _Units:
        m, d = int(unit_of.max()) + 1, vectors.shape[1]
        core_sum = np.zeros((m, d), np.float64)
        all_sum = np.zeros((m, d), np.float64)
        np.add.at(all_sum, unit_of, vectors)
        np.add.at(core_sum, unit_of[core], vectors[core])
        frames: list[set] = [set() for _ in range(m)]
        for unit, frame in zip(unit_of.tolist(), frame_ids.tolist(), strict=True):
            frames[unit].add(frame)
        core_quality = np.bincount(unit_of[core], weights=quality[core], minlength=m)
        return cls(core_sum, np.bincount(unit_of[core], minlength=m), core_quality, all_sum,
                   np.bincount(unit_of, minlength=m), frames)


def _cluster_units(units: _Units, idx: np.ndarray, threshold: float,
                   settings: ClusterSettings) -> np.ndarray:
    """Labels for the good units `idx` (any integers; -1 = noise) under the chosen algorithm."""
    if len(idx) == 0:
        return np.zeros(0, dtype=np.int64)
    sums, counts = units.core_sum[idx], units.core_count[idx]
    frames = [units.frames[i] for i in idx]
    means = _unit_rows(sums)
    if settings.algorithm == "average":
        return _agglomerate(_AverageLink(sums, counts, units.core_quality[idx]), means, frames,
                            threshold)
    if settings.algorithm == "complete":
        return _agglomerate(_CompleteLink(sums), means, frames, threshold)
    if settings.algorithm == "greedy":
        return _greedy(sums, counts, frames, threshold)
    if len(idx) == 1:
        raw = np.zeros(1, dtype=np.int64)
    elif settings.algorithm == "dbscan":
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


def _neighbour_edges(means: np.ndarray, k: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) pairs: each row's k most similar other rows with similarity >= floor.

    Blocks of rows against all rows in float32: memory is O(block x n), never n x n.
    """
    n = len(means)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    block = max(1, min(n, 2**22 // n))
    rows, cols = [], []
    for start in range(0, n, block):
        sims = means[start:start + block] @ means.T
        np.fill_diagonal(sims[:, start:start + block], -np.inf)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        keep = np.take_along_axis(sims, top, axis=1) >= floor
        r = np.repeat(np.arange(start, start + len(sims)), k).reshape(-1, k)
        rows.append(r[keep])
        cols.append(top[keep])
    return np.concatenate(rows), np.concatenate(cols)


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
        self.means = _unit_rows(sums)
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
    a_idx, b_idx = _neighbour_edges(means, NEIGHBOURS, threshold - 0.2)
    neighbours: list[set] = [set() for _ in range(n)]
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    version = np.zeros(n, dtype=np.int64)
    sets = _DisjointSets(n)
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
    means = _unit_rows(sums)
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


def _attach_low(units: _Units, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Units without a good face join the most similar person (by its good faces' mean) when
    above threshold and free of shared frames; person means do not move, so they cannot bridge."""
    labels = labels.copy()
    low = np.flatnonzero(units.core_count == 0)
    people = np.unique(labels[labels >= 0])
    if len(low) == 0 or len(people) == 0:
        return labels
    index = {int(p): k for k, p in enumerate(people)}
    person_sums = np.zeros((len(people), units.core_sum.shape[1]))
    person_frames: list[set] = [set() for _ in people]
    for u in np.flatnonzero(labels >= 0):
        k = index[int(labels[u])]
        person_sums[k] += units.core_sum[u]
        person_frames[k] |= units.frames[u]
    person_means = _unit_rows(person_sums)
    low_means = _unit_rows(units.all_sum[low])
    for start in range(0, len(low), 4096):
        sims = low_means[start:start + 4096] @ person_means.T
        for row, u in zip(sims, low[start:start + 4096], strict=True):
            for k in np.argsort(-row)[:4]:
                if row[k] < threshold:
                    break
                if person_frames[k].isdisjoint(units.frames[u]):
                    labels[u] = people[k]
                    person_frames[k] |= units.frames[u]
                    break
    return labels


def _drop_rare(labels: np.ndarray, shots: np.ndarray, quality: np.ndarray,
               settings: ClusterSettings) -> np.ndarray:
    """Groups seen in fewer than min_shots shots, with few faces and those not clear, become
    unassigned."""
    assigned = labels >= 0
    pairs = np.unique(np.stack([labels[assigned], shots[assigned]]), axis=1)
    groups, shot_counts = np.unique(pairs[0], return_counts=True)
    _, face_counts = np.unique(labels[assigned], return_counts=True)  # same sorted groups
    rare = groups[(shot_counts < settings.min_shots) & (face_counts < settings.lone_shot_faces)]
    rare = [g for g in rare if np.median(quality[labels == g]) < settings.lone_shot_quality]
    return np.where(np.isin(labels, rare), -1, labels)


def _relabel_by_size(labels: np.ndarray, min_faces: int) -> np.ndarray:
    """0, 1, ... by decreasing group size; groups under min_faces (and -1) become -1."""
    out = np.full(len(labels), -1, dtype=np.int64)
    assigned = labels >= 0
    if not assigned.any():
        return out
    values, inverse, counts = np.unique(labels[assigned], return_inverse=True, return_counts=True)
    rank = np.full(len(values), -1, dtype=np.int64)
    big = np.flatnonzero(counts >= min_faces)
    rank[big[np.argsort(-counts[big], kind="stable")]] = np.arange(len(big))
    out[assigned] = rank[inverse.reshape(-1)]
    return out
