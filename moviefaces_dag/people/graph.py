"""Building blocks shared by the clustering steps: unit vectors, disjoint sets, nearest-neighbour
edges and must-link tracklets."""

from __future__ import annotations

import numpy as np

MUST_LINK_SIMILARITY = 0.25  # consecutive samples of one shot at one place: same person above this
MUST_LINK_MOVE = 0.6  # ... when the box centres moved less than this share of the face width


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class DisjointSets:
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


def neighbour_edges(means: np.ndarray, k: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
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


def tracklets(vectors: np.ndarray, frame_ids: np.ndarray, sample: np.ndarray, shot: np.ndarray,
              boxes: np.ndarray) -> np.ndarray:
    """Unit number per face: chains of one-to-one links between consecutive samples of a shot."""
    sample, shot, boxes = np.asarray(sample), np.asarray(shot), np.asarray(boxes)
    by_sample: dict[int, list[int]] = {}
    for i in np.argsort(sample, kind="stable"):
        by_sample.setdefault(int(sample[i]), []).append(int(i))
    sets = DisjointSets(len(vectors))
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
