"""'Possibly the same person': pairs of people whose faces are about as alike as one person's."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..faces.chances import EVEN, p_same
from ..store import FaceRow

MAX_PAIRS = 12


def likely_pairs(
    labels: dict[int, int],
    face_ids: list[int],
    matrix: np.ndarray,
    together: set[frozenset[int]],
    limit: int = MAX_PAIRS,
) -> list[tuple[int, int, float, float]]:
    """(person a, person b, similarity, chance) for pairs of people who never share a frame
    and are one person with at least an even chance, likeliest first: the review queue's
    ranking (faces/chances.py: the similarity of the two people's normalised mean faces)."""
    rows: dict[int, list[int]] = defaultdict(list)
    for row, face_id in enumerate(face_ids):
        if labels.get(face_id) is not None:
            rows[labels[face_id]].append(row)
    if len(rows) < 2:
        return []
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    people = sorted(rows)
    means = np.stack([unit[rows[p]].mean(axis=0) for p in people])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    sims = means @ means.T
    pairs = [(people[i], people[j], float(sims[i, j]),
              p_same(float(sims[i, j]), min(len(rows[people[i]]), len(rows[people[j]]))))
             for i in range(len(people)) for j in range(i + 1, len(people))
             if frozenset((people[i], people[j])) not in together]
    return sorted((p for p in pairs if p[3] >= EVEN), key=lambda p: -p[3])[:limit]


def seen_together(faces: list[FaceRow]) -> set[frozenset[int]]:
    """Pairs of people who share a frame."""
    by_frame: dict[int, set[int]] = defaultdict(set)
    for face in faces:
        if face.person_id is not None:
            by_frame[face.frame_id].add(face.person_id)
    return {
        frozenset((a, b))
        for ids in by_frame.values() if len(ids) > 1
        for a in ids for b in ids if a < b
    }
