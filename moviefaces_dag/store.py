"""The SQLite store: movies, sampled frames, faces (detections + embeddings) and people.

One file, WAL mode, foreign keys on, parameterised SQL only. Every stage replaces one movie's
rows inside a single transaction, so a run killed halfway leaves the previous good data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .faces.types import l2_normalize

SCHEMA = """
CREATE TABLE IF NOT EXISTS movies (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    inode INTEGER,
    fingerprint TEXT,
    duration REAL,
    fps REAL,
    width INTEGER,
    height INTEGER,
    codec TEXT,
    container TEXT,
    frame_count INTEGER,
    registered_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    movie_key TEXT NOT NULL REFERENCES movies(key) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    time REAL NOT NULL,
    path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    cut_distance REAL,
    UNIQUE (movie_key, idx)
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY,
    movie_key TEXT NOT NULL REFERENCES movies(key) ON DELETE CASCADE,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    score REAL NOT NULL,
    landmarks TEXT NOT NULL,
    sharpness REAL NOT NULL,
    size REAL NOT NULL,
    frontalness REAL NOT NULL,
    quality REAL NOT NULL,
    crop_path TEXT NOT NULL,
    embedding BLOB,
    embedding_dim INTEGER,
    embedding_model TEXT,
    embedding_norm REAL,
    person_id INTEGER
);
CREATE INDEX IF NOT EXISTS faces_movie ON faces(movie_key);
CREATE INDEX IF NOT EXISTS faces_frame ON faces(frame_id);
CREATE TABLE IF NOT EXISTS people (
    movie_key TEXT NOT NULL REFERENCES movies(key) ON DELETE CASCADE,
    person_id INTEGER NOT NULL,
    face_count INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    best_face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL,
    PRIMARY KEY (movie_key, person_id)
);
CREATE TABLE IF NOT EXISTS stage_runs (
    movie_key TEXT NOT NULL REFERENCES movies(key) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    settings TEXT NOT NULL,
    stats TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT (datetime('now')),
    PRIMARY KEY (movie_key, stage)
);
"""


# Columns added after the first release: stores made before them gain them on open (NULL).
ADDED_COLUMNS = {"frames": {"cut_distance": "REAL"}, "faces": {"embedding_norm": "REAL"}}


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        present = {r["name"] for r in conn.execute("SELECT name FROM pragma_table_info(?)",
                                                   (table,))}
        for name, kind in columns.items():
            if name not in present:
                # Names come from the constant above, never from input.
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


class StoreError(Exception):
    """A store lookup failed in a way the user can act on."""


@dataclass(frozen=True)
class MovieRow:
    key: str
    path: str
    size: int | None
    mtime_ns: int | None
    inode: int | None
    fingerprint: str | None
    duration: float | None
    fps: float | None
    width: int | None
    height: int | None
    codec: str | None
    container: str | None
    frame_count: int | None


@dataclass(frozen=True)
class FrameRow:
    idx: int
    time: float
    path: str
    width: int
    height: int
    cut_distance: float | None = None  # colour distance to the previous sample (shots.py)
    id: int | None = None


@dataclass(frozen=True)
class FaceRow:
    frame_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels
    score: float
    landmarks: tuple[tuple[float, float], ...]  # 5 points: eyes, nose, mouth corners
    sharpness: float
    size: float
    frontalness: float
    quality: float
    crop_path: str
    id: int | None = None
    time: float | None = None
    person_id: int | None = None
    embedding_norm: float | None = None  # the recogniser's raw embedding length (clarity)


@dataclass(frozen=True)
class PersonRow:
    person_id: int
    face_count: int
    first_seen: float
    last_seen: float
    best_face_id: int | None


class MovieStore:
    """Plain SQLite access; knows nothing of Dagster."""

    def __init__(self, db_path: Path | str):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._reader() as conn:
            conn.executescript(SCHEMA)  # IF NOT EXISTS throughout: safe on every open
            _add_missing_columns(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    # movies -----------------------------------------------------------------------------------
    def register_movie(self, key: str, path: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO movies (key, path) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET path = excluded.path",
                (key, path),
            )

    def movie_keys(self) -> dict[str, str]:
        """Registered movies as {key: path}."""
        with self._reader() as conn:
            return {r["key"]: r["path"] for r in conn.execute("SELECT key, path FROM movies")}

    def get_movie(self, key: str) -> MovieRow:
        with self._reader() as conn:
            row = conn.execute("SELECT * FROM movies WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(
                f"movie partition {key!r} is not registered in {self.db_path}; "
                "run `moviefaces add MOVIE` first"
            )
        return MovieRow(**{f: row[f] for f in MovieRow.__dataclass_fields__})

    def update_movie(self, key: str, **fields: Any) -> None:
        allowed = set(MovieRow.__dataclass_fields__) - {"key"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown movie fields: {sorted(unknown)}")
        # Column names come from the fixed dataclass field list above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE movies SET {assignments} WHERE key = ?", (*fields.values(), key)
            )

    # stage bookkeeping ----------------------------------------------------------------------
    @staticmethod
    def _record_stage(
        conn: sqlite3.Connection, key: str, stage: str, settings: dict, stats: dict
    ) -> None:
        conn.execute(
            "INSERT INTO stage_runs (movie_key, stage, settings, stats) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(movie_key, stage) DO UPDATE SET settings = excluded.settings, "
            "stats = excluded.stats, finished_at = datetime('now')",
            (key, stage, json.dumps(settings, sort_keys=True), json.dumps(stats, sort_keys=True)),
        )

    def stage_runs(self, key: str) -> dict[str, dict[str, Any]]:
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT stage, settings, stats, finished_at FROM stage_runs WHERE movie_key = ?",
                (key,),
            ).fetchall()
        return {
            r["stage"]: {
                "settings": json.loads(r["settings"]),
                "stats": json.loads(r["stats"]),
                "finished_at": r["finished_at"],
            }
            for r in rows
        }

    # frames -----------------------------------------------------------------------------------
    def replace_frames(
        self, key: str, frames: Iterable[FrameRow], settings: dict, stats: dict
    ) -> int:
        """Replace the movie's frames. When the same instants were sampled again (a rerun of an
        unchanged movie) the rows are updated in place and its faces and people stay: the
        frames' data version is unchanged, so nothing downstream will rerun to remake them.
        Otherwise faces and people go with the old frames they were made from."""
        frames = list(frames)
        with self.transaction() as conn:
            before = [tuple(r) for r in conn.execute(
                "SELECT idx, time FROM frames WHERE movie_key = ? ORDER BY idx", (key,))]
            if before == [(f.idx, f.time) for f in frames]:
                conn.executemany(
                    "UPDATE frames SET path = ?, width = ?, height = ?, cut_distance = ? "
                    "WHERE movie_key = ? AND idx = ?",
                    ((f.path, f.width, f.height, f.cut_distance, key, f.idx) for f in frames),
                )
            else:
                conn.execute("DELETE FROM people WHERE movie_key = ?", (key,))
                conn.execute("DELETE FROM faces WHERE movie_key = ?", (key,))
                conn.execute("DELETE FROM frames WHERE movie_key = ?", (key,))
                conn.executemany(
                    "INSERT INTO frames (movie_key, idx, time, path, width, height, cut_distance) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    ((key, f.idx, f.time, f.path, f.width, f.height, f.cut_distance)
                     for f in frames),
                )
            self._record_stage(conn, key, "frames", settings, stats)
            return len(frames)

    def frames(self, key: str) -> list[FrameRow]:
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT id, idx, time, path, width, height, cut_distance FROM frames "
                "WHERE movie_key = ? ORDER BY idx",
                (key,),
            ).fetchall()
        return [FrameRow(**dict(r)) for r in rows]

    # faces ------------------------------------------------------------------------------------
    def replace_faces(
        self, key: str, faces: Iterable[FaceRow], settings: dict, stats: dict
    ) -> int:
        with self.transaction() as conn:
            conn.execute("DELETE FROM people WHERE movie_key = ?", (key,))
            conn.execute("DELETE FROM faces WHERE movie_key = ?", (key,))
            cur = conn.executemany(
                "INSERT INTO faces (movie_key, frame_id, x, y, w, h, score, landmarks, sharpness, "
                "size, frontalness, quality, crop_path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        key, f.frame_id, *f.box, f.score, json.dumps(f.landmarks), f.sharpness,
                        f.size, f.frontalness, f.quality, f.crop_path,
                    )
                    for f in faces
                ),
            )
            self._record_stage(conn, key, "face_detections", settings, stats)
            return cur.rowcount

    def faces(self, key: str) -> list[FaceRow]:
        """The movie's faces in time order, with their frame time and person (if clustered)."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT faces.*, frames.time AS time FROM faces JOIN frames "
                "ON frames.id = faces.frame_id WHERE faces.movie_key = ? "
                "ORDER BY frames.idx, faces.id",
                (key,),
            ).fetchall()
        return [
            FaceRow(
                frame_id=r["frame_id"],
                box=(r["x"], r["y"], r["w"], r["h"]),
                score=r["score"],
                landmarks=tuple(tuple(p) for p in json.loads(r["landmarks"])),
                sharpness=r["sharpness"],
                size=r["size"],
                frontalness=r["frontalness"],
                quality=r["quality"],
                crop_path=r["crop_path"],
                id=r["id"],
                time=r["time"],
                person_id=r["person_id"],
                embedding_norm=r["embedding_norm"],
            )
            for r in rows
        ]

    def set_embeddings(
        self,
        key: str,
        face_ids: Sequence[int],
        vectors: np.ndarray,
        model_id: str,
        settings: dict,
        stats: dict,
    ) -> None:
        """Store each face's embedding, as the recogniser gave it, as a float32 unit vector (who)
        and its length (how clearly the model saw a face); faces not listed lose any old one."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(face_ids):
            raise ValueError(f"expected {len(face_ids)} embeddings, got shape {vectors.shape}")
        dim = int(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1)
        vectors = np.ascontiguousarray(l2_normalize(vectors))
        with self.transaction() as conn:
            conn.execute("DELETE FROM people WHERE movie_key = ?", (key,))
            conn.execute(
                "UPDATE faces SET embedding = NULL, embedding_dim = NULL, embedding_model = NULL, "
                "embedding_norm = NULL, person_id = NULL WHERE movie_key = ?",
                (key,),
            )
            conn.executemany(
                "UPDATE faces SET embedding = ?, embedding_dim = ?, embedding_model = ?, "
                "embedding_norm = ? WHERE id = ? AND movie_key = ?",
                (
                    (vec.tobytes(), dim, model_id, float(norm), int(fid), key)
                    for fid, vec, norm in zip(face_ids, vectors, norms, strict=True)
                ),
            )
            self._record_stage(conn, key, "face_embeddings", settings, stats)

    def embeddings(self, key: str) -> tuple[list[int], np.ndarray, str | None]:
        """(face ids, float32 unit vectors n x dim, model id) for the movie's embedded faces."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT faces.id, embedding, embedding_dim, embedding_model FROM faces "
                "JOIN frames ON frames.id = faces.frame_id "
                "WHERE faces.movie_key = ? AND embedding IS NOT NULL ORDER BY frames.idx, faces.id",
                (key,),
            ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), np.float32), None
        dims = {r["embedding_dim"] for r in rows}
        models = {r["embedding_model"] for r in rows}
        if len(dims) != 1 or len(models) != 1:
            raise StoreError(
                f"movie {key!r} mixes embedding models {sorted(models)}; re-run embeddings"
            )
        dim = dims.pop()
        matrix = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype=np.float32)
        return [r["id"] for r in rows], matrix.reshape(len(rows), dim), models.pop()

    # people -----------------------------------------------------------------------------------
    def replace_people(
        self,
        key: str,
        assignments: dict[int, int | None],
        people: Iterable[PersonRow],
        settings: dict,
        stats: dict,
    ) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM people WHERE movie_key = ?", (key,))
            conn.execute("UPDATE faces SET person_id = NULL WHERE movie_key = ?", (key,))
            conn.executemany(
                "UPDATE faces SET person_id = ? WHERE id = ? AND movie_key = ?",
                ((pid, fid, key) for fid, pid in assignments.items() if pid is not None),
            )
            conn.executemany(
                "INSERT INTO people (movie_key, person_id, face_count, first_seen, last_seen, "
                "best_face_id) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (key, p.person_id, p.face_count, p.first_seen, p.last_seen, p.best_face_id)
                    for p in people
                ),
            )
            self._record_stage(conn, key, "face_clusters", settings, stats)

    def people(self, key: str) -> list[PersonRow]:
        """People of the movie, most faces first."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT person_id, face_count, first_seen, last_seen, best_face_id FROM people "
                "WHERE movie_key = ? ORDER BY face_count DESC, first_seen, person_id",
                (key,),
            ).fetchall()
        return [PersonRow(**dict(r)) for r in rows]
