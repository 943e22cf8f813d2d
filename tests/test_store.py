"""The real SQLite store: schema, pragmas, atomic replacement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from moviefaces_dag.store import FaceRow, FrameRow, MovieStore, PersonRow, StoreError


def face(frame_id: int, n: int) -> FaceRow:
    return FaceRow(
        frame_id=frame_id, box=(10.0 * n, 20.0, 30.0, 40.0), score=0.9,
        landmarks=((1.0, 2.0),) * 5, sharpness=100.0, size=30.0, frontalness=0.8,
        quality=0.7, crop_path=f"/crops/{frame_id}_{n}.jpg",
    )


@pytest.fixture
def store(tmp_path: Path) -> MovieStore:
    store = MovieStore(tmp_path / "db.sqlite")
    store.register_movie("m", "/movies/m.mp4")
    store.replace_frames("m", [FrameRow(i, float(i), f"/f/{i}.jpg", 64, 48) for i in range(3)],
                         {"fps": 1.0}, {"frames": 3})
    frames = store.frames("m")
    store.replace_faces("m", [face(frames[0].id, 0), face(frames[0].id, 1), face(frames[2].id, 0)],
                        {"models": "x"}, {"faces": 3})
    return store


def test_wal_and_foreign_keys(store: MovieStore) -> None:
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with store.transaction() as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO frames (movie_key, idx, time, path, width, height) "
            "VALUES ('nobody', 0, 0, 'x', 1, 1)"
        )


def test_faces_round_trip_in_time_order(store: MovieStore) -> None:
    faces = store.faces("m")
    assert [f.time for f in faces] == [0.0, 0.0, 2.0]
    assert faces[1].box == (10.0, 20.0, 30.0, 40.0)
    assert faces[0].landmarks == ((1.0, 2.0),) * 5


def test_embeddings_keep_dimension_and_model(store: MovieStore) -> None:
    ids = [f.id for f in store.faces("m")]
    vectors = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    store.set_embeddings("m", ids, vectors, "model-7d", {}, {})
    got_ids, matrix, model = store.embeddings("m")
    assert got_ids == ids and model == "model-7d" and matrix.shape == (3, 7)
    np.testing.assert_array_equal(matrix, vectors)


def test_failed_replace_keeps_previous_rows(store: MovieStore) -> None:
    before = store.faces("m")

    def exploding():
        yield face(store.frames("m")[1].id, 0)
        raise RuntimeError("killed halfway")

    with pytest.raises(RuntimeError, match="killed halfway"):
        store.replace_faces("m", exploding(), {}, {})
    assert store.faces("m") == before
    assert store.stage_runs("m")["face_detections"]["stats"] == {"faces": 3}


def test_replacing_frames_drops_faces_and_people(store: MovieStore) -> None:
    ids = [f.id for f in store.faces("m")]
    store.replace_people("m", {ids[0]: 1, ids[1]: None, ids[2]: 1},
                         [PersonRow(1, 2, 0.0, 2.0, ids[0])], {}, {})
    assert [p.face_count for p in store.people("m")] == [2]
    store.replace_frames("m", [FrameRow(0, 0.0, "/f/new.jpg", 64, 48)], {"fps": 2.0}, {})
    assert store.faces("m") == [] and store.people("m") == []
    assert [f.path for f in store.frames("m")] == ["/f/new.jpg"]


def test_movies_are_isolated(store: MovieStore) -> None:
    store.register_movie("other", "/movies/other.mp4")
    store.replace_frames("other", [FrameRow(0, 0.0, "/o.jpg", 8, 8)], {}, {})
    assert len(store.frames("m")) == 3
    assert len(store.faces("m")) == 3


def test_unknown_movie_is_a_clear_error(store: MovieStore) -> None:
    with pytest.raises(StoreError, match="moviefaces add"):
        store.get_movie("missing")
