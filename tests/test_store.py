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


def test_embeddings_keep_dimension_model_and_length(store: MovieStore) -> None:
    ids = [f.id for f in store.faces("m")]
    vectors = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    store.set_embeddings("m", ids, vectors, "model-7d", {}, {})
    got_ids, matrix, model = store.embeddings("m")
    assert got_ids == ids and model == "model-7d" and matrix.shape == (3, 7)
    lengths = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(matrix, vectors / lengths[:, None], rtol=1e-6)
    assert [f.embedding_norm for f in store.faces("m")] == pytest.approx(lengths.tolist())


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


def test_resampling_the_same_instants_keeps_faces_and_people(store: MovieStore) -> None:
    # A rerun of frames on an unchanged movie keeps its data version, so detection will not
    # rerun: the faces and people must survive it, pointing at the new frame files.
    ids = [f.id for f in store.faces("m")]
    store.replace_people("m", {ids[0]: 1, ids[1]: None, ids[2]: 1},
                         [PersonRow(1, 2, 0.0, 2.0, ids[0])], {}, {})
    faces = store.faces("m")
    frame_ids = [f.id for f in store.frames("m")]
    again = [FrameRow(i, float(i), f"/v2/{i}.jpg", 64, 48, cut_distance=0.1 * i) for i in range(3)]
    store.replace_frames("m", again, {"fps": 1.0}, {"frames": 3})
    frames = store.frames("m")
    assert [f.id for f in frames] == frame_ids
    assert [f.path for f in frames] == ["/v2/0.jpg", "/v2/1.jpg", "/v2/2.jpg"]
    assert [f.cut_distance for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    assert store.faces("m") == faces
    assert [p.face_count for p in store.people("m")] == [2]


def test_a_store_from_before_cut_distances_gains_the_column(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE movies (key TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER, "
        "mtime_ns INTEGER, inode INTEGER, fingerprint TEXT, duration REAL, fps REAL, "
        "width INTEGER, height INTEGER, codec TEXT, container TEXT, frame_count INTEGER, "
        "registered_at TEXT NOT NULL DEFAULT (datetime('now')));"
        "CREATE TABLE frames (id INTEGER PRIMARY KEY, movie_key TEXT NOT NULL REFERENCES "
        "movies(key) ON DELETE CASCADE, idx INTEGER NOT NULL, time REAL NOT NULL, "
        "path TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, "
        "UNIQUE (movie_key, idx));"
        "INSERT INTO movies (key, path) VALUES ('m', '/m.mp4');"
        "INSERT INTO frames (movie_key, idx, time, path, width, height) "
        "VALUES ('m', 0, 0.0, '/f/0.jpg', 64, 48);"
    )
    conn.commit()
    conn.close()
    store = MovieStore(db)
    [old] = store.frames("m")
    assert (old.path, old.cut_distance) == ("/f/0.jpg", None)
    store.replace_frames("m", [FrameRow(0, 0.0, "/f/0b.jpg", 64, 48, 0.0)], {}, {})
    assert store.frames("m")[0].cut_distance == 0.0


def test_movies_are_isolated(store: MovieStore) -> None:
    store.register_movie("other", "/movies/other.mp4")
    store.replace_frames("other", [FrameRow(0, 0.0, "/o.jpg", 8, 8)], {}, {})
    assert len(store.frames("m")) == 3
    assert len(store.faces("m")) == 3


def test_unknown_movie_is_a_clear_error(store: MovieStore) -> None:
    with pytest.raises(StoreError, match="moviefaces add"):
        store.get_movie("missing")
