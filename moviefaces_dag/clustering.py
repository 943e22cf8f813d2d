"""Grouping face embeddings into people."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering

# Cosine similarity above which two faces are taken as one person, per recogniser. SFace's
# published verification threshold is 0.363; ArcFace models separate identities more widely.
DEFAULT_THRESHOLDS = {"sface": 0.36, "arcface": 0.30, "mobilefacenet": 0.45}
FALLBACK_THRESHOLD = 0.36


def default_threshold(model_id: str | None) -> float:
    name = (model_id or "").lower()
    for family, threshold in DEFAULT_THRESHOLDS.items():
        if family in name:
            return threshold
    return FALLBACK_THRESHOLD


@dataclass(frozen=True)
class ClusterSettings:
    similarity_threshold: float | None = None  # None: the recogniser's default
    min_faces: int = 2  # smaller groups stay unassigned
    linkage: str = "average"


def cluster_embeddings(
    embeddings: np.ndarray,
    frame_ids: np.ndarray,
    settings: ClusterSettings,
    model_id: str | None = None,
) -> np.ndarray:
    """Person label per face (0, 1, ... by decreasing size; -1 = unassigned).

    Agglomerative clustering on cosine distance with a distance threshold, then any group
    holding two faces of one frame is split so that faces seen together stay apart.
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = settings.similarity_threshold or default_threshold(model_id)
    if n == 1:
        raw = np.zeros(1, dtype=np.int64)
    else:
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage=settings.linkage,
            distance_threshold=1.0 - threshold,
        )
        raw = model.fit_predict(embeddings)
    raw = _split_same_frame(raw, embeddings, np.asarray(frame_ids))
    return _relabel_by_size(raw, settings.min_faces)


def _split_same_frame(labels: np.ndarray, embeddings: np.ndarray, frame_ids: np.ndarray) -> np.ndarray:
    """Within each group, a face sharing a frame with a closer face moves to a new group."""
    labels = labels.copy()
    next_label = labels.max() + 1
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        frames = frame_ids[members]
        if len(np.unique(frames)) == len(frames):
            continue
        centroid = embeddings[members].mean(axis=0)
        closeness = embeddings[members] @ centroid
        kept: set = set()
        for idx in members[np.argsort(-closeness)]:
            if frame_ids[idx] in kept:
                labels[idx] = next_label
                next_label += 1
            else:
                kept.add(frame_ids[idx])
    return labels


def _relabel_by_size(labels: np.ndarray, min_faces: int) -> np.ndarray:
    values, counts = np.unique(labels, return_counts=True)
    order = sorted(zip(-counts, values))
    mapping = {}
    for neg_count, value in order:
        mapping[value] = len(mapping) if -neg_count >= min_faces else -1
    return np.array([mapping[v] for v in labels], dtype=np.int64)
