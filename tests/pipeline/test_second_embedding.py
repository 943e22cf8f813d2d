"""The second recogniser through the real stages on a real movie: both embeddings stored, the
faces grouped on both, and a run without it leaves no stale second vectors behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from moviefaces_dag.core.progress import LogProgress
from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.faces.dlib_descriptor import DLIB_ID
from moviefaces_dag.people.clustering import ClusterSettings
from moviefaces_dag.people.vectors import grouping_embeddings
from moviefaces_dag.pipeline.stages import (
    cluster_faces,
    detect_faces,
    embed_faces,
    extract_frames,
)
from moviefaces_dag.store import OutputRoot


def embed(folder, resource: FaceAnalyzerResource) -> dict:
    with folder.writing("test") as draft, resource.analyzer() as analyzer:
        stats = embed_faces(draft, analyzer, resource.recognizer_settings(), LogProgress(),
                            lambda _: None, resource.second())
        cluster_faces(draft.db, ClusterSettings())
    return stats


def test_both_embeddings_are_stored_and_grouped_on(cast_a: Path, tmp_path: Path) -> None:
    root = OutputRoot(tmp_path / "out")
    folder = root.folder(root.register(cast_a))
    plain, both = FaceAnalyzerResource(), FaceAnalyzerResource(second_recognizer="dlib")
    assert plain.recognizer_settings() != both.recognizer_settings()  # its own code version
    with folder.writing("test") as draft, plain.analyzer() as analyzer:
        extract_frames(draft, 1.0, 12, LogProgress(), lambda _: None)
        detect_faces(draft, analyzer, plain.detector_settings(), LogProgress(), lambda _: None)

    stats = embed(folder, both)
    db = folder.draft_db()
    face_ids, first, model = db.embeddings()
    second, second_model = db.second_embeddings(face_ids)
    assert stats["second_model"] == second_model == DLIB_ID and len(face_ids) >= 8
    assert second.shape == (len(face_ids), 128)
    assert np.allclose(np.linalg.norm(second, axis=1), 1.0, atol=1e-5)
    ids, grouped, grouped_model = grouping_embeddings(db)
    assert ids == face_ids and grouped.shape == (len(ids), 256)
    assert grouped_model == f"{model}+{DLIB_ID}"
    people = db.people()
    assert people and sum(p.face_count for p in people) >= len(face_ids) // 2

    embed(folder, plain)  # the second recogniser turned off again
    db = folder.draft_db()
    face_ids, again, model = db.embeddings()
    assert db.second_embeddings(face_ids) is None
    assert np.array_equal(again, first)
    assert grouping_embeddings(db)[2] == model
