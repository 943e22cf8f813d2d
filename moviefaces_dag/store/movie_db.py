"""One movie's SQLite database: its file's identity, sampled frames, faces and people.

Every stage replaces its rows inside a single transaction and records what it read (the token of
the stage before it) and what it wrote (its own token), so a result can be checked for
consistency before it is published. File paths are stored relative to the movie's folder, so the
folder can move. Parameterised SQL only.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..core.faults import fault_point
from ..faces.types import l2_normalize
from .people import PeopleTables
from .rows import FaceRow, FrameRow, MovieRow, StageRun
from .schema import (
    ADDED_COLUMNS,
    SCHEMA,
    STAGES,
    UPSTREAM,
    StoreError,
    content_token,
    database_error,
)

MOVIE_FIELDS = tuple(f for f in MovieRow.__dataclass_fields__ if f != "key")


class MovieDB(PeopleTables):
    """Plain SQLite access to one movie; knows nothing of Dagster or of the folder around it."""

    def __init__(self, db_path: Path | str, readonly: bool = False):
        self.db_path = Path(db_path)
        self.readonly = readonly
        if readonly:
            if not self.db_path.is_file():
                raise StoreError(f"{self.db_path} is missing")
            return
        with self._connection() as conn:
            conn.executescript(SCHEMA)  # IF NOT EXISTS throughout: safe on every open
            for table, columns in ADDED_COLUMNS.items():
                present = {r["name"] for r in conn.execute(
                    "SELECT name FROM pragma_table_info(?)", (table,))}
                for name, kind in columns.items():
                    if name not in present:  # names from the constant above, never from input
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _connection_raw(self) -> sqlite3.Connection:
        if self.readonly:
            # Published snapshots are never written in place (a new one replaces them), so
            # readers need no locks: this works on read-only media too.
            uri = f"{self.db_path.resolve().as_uri()}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection; a damaged file or a refusing disk becomes a StoreError naming it."""
        try:
            conn = self._connection_raw()
            try:
                yield conn
            finally:
                conn.close()
        except sqlite3.IntegrityError:
            raise  # a bug in our rows, not a problem of the file
        except sqlite3.DatabaseError as exc:
            raise database_error(self.db_path, exc, "a damaged file can be moved away; the "
                                 "movie is then processed again") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        if self.readonly:
            raise StoreError(f"{self.db_path} is a published result and cannot be changed")
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def integrity(self) -> str:
        with self._connection() as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]

    def snapshot(self, target: Path) -> None:
        """A consistent copy of this database in one self-contained file (no journal)."""
        with self._connection() as source:
            copy = sqlite3.connect(target, isolation_level=None)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()

    # the movie ----------------------------------------------------------------------------------
    def set_movie(self, key: str, path: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO movie (id, key, path) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET key = excluded.key, path = excluded.path",
                (key, path),
            )

    def has_movie(self) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT 1 FROM movie").fetchone() is not None

    def movie(self) -> MovieRow:
        with self._connection() as conn:
            row = conn.execute("SELECT * FROM movie").fetchone()
        if row is None:
            raise StoreError(f"{self.db_path} holds no movie")
        return MovieRow(**{f: row[f] for f in MovieRow.__dataclass_fields__})

    def update_movie(self, **fields: Any) -> None:
        unknown = set(fields) - set(MOVIE_FIELDS)
        if unknown:
            raise ValueError(f"unknown movie fields: {sorted(unknown)}")
        # Column names come from the fixed dataclass field list above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            conn.execute(f"UPDATE movie SET {assignments} WHERE id = 1", tuple(fields.values()))

    # stage bookkeeping --------------------------------------------------------------------------
    @staticmethod
    def _record_stage(conn: sqlite3.Connection, stage: str, settings: dict, stats: dict,
                      token: str, folder: str | None = None, input_token: str = "") -> None:
        if stage in UPSTREAM:
            row = conn.execute("SELECT token FROM stage_runs WHERE stage = ?",
                               (UPSTREAM[stage],)).fetchone()
            input_token = row["token"] if row else ""
        conn.execute(
            "INSERT INTO stage_runs (stage, settings, stats, token, input_token, folder) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(stage) DO UPDATE SET "
            "settings = excluded.settings, stats = excluded.stats, token = excluded.token, "
            "input_token = excluded.input_token, folder = excluded.folder, "
            "finished_at = datetime('now')",
            (stage, json.dumps(settings, sort_keys=True), json.dumps(stats, sort_keys=True),
             token, input_token, folder),
        )
        fault_point(f"writing:{stage}")  # every row written, nothing committed

    def stage_runs(self) -> dict[str, StageRun]:
        with self._connection() as conn:
            rows = conn.execute("SELECT * FROM stage_runs").fetchall()
        return {
            r["stage"]: StageRun(
                settings=json.loads(r["settings"]), stats=json.loads(r["stats"]),
                finished_at=r["finished_at"], token=r["token"], input_token=r["input_token"],
                folder=r["folder"],
            )
            for r in rows
        }

    def stale_stages(self) -> list[str]:
        """Stages missing, or made from another version of the stage before them than the one
        stored now (the result is then not consistent and must not be published)."""
        runs = self.stage_runs()
        stale = []
        for stage in STAGES:
            run, upstream = runs.get(stage), UPSTREAM.get(stage)
            if run is None or (upstream and (upstream in stale
                                             or run.input_token != runs[upstream].token)):
                stale.append(stage)
        return stale

    def folders(self) -> set[str]:
        """Version folders (relative to the movie's folder) that the stored rows point into."""
        return {run.folder for run in self.stage_runs().values() if run.folder}

    # frames -------------------------------------------------------------------------------------
    def replace_frames(self, frames: Iterable[FrameRow], settings: dict, stats: dict,
                       identity: str, folder: str) -> str:
        """Replace the frames; return their token. When the same instants were sampled again (a
        rerun of an unchanged movie) the rows are updated in place and the faces and people stay,
        under the same token. Otherwise faces and people go with the frames they were made from.
        `identity` says what was sampled (movie content, sampling settings, display handling)."""
        frames = list(frames)
        token = content_token(identity, json.dumps([(f.idx, f.time) for f in frames]))
        with self.transaction() as conn:
            before = [tuple(r) for r in conn.execute("SELECT idx, time FROM frames ORDER BY idx")]
            if before == [(f.idx, f.time) for f in frames]:
                conn.executemany(
                    "UPDATE frames SET path = ?, width = ?, height = ?, cut_distance = ? "
                    "WHERE idx = ?",
                    ((f.path, f.width, f.height, f.cut_distance, f.idx) for f in frames),
                )
            else:
                conn.execute("DELETE FROM people")
                conn.execute("DELETE FROM faces")
                conn.execute("DELETE FROM frames")
                conn.executemany(
                    "INSERT INTO frames (idx, time, path, width, height, cut_distance) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    ((f.idx, f.time, f.path, f.width, f.height, f.cut_distance) for f in frames),
                )
            fingerprint = conn.execute("SELECT fingerprint FROM movie").fetchone()
            self._record_stage(conn, "frames", settings, stats, token, folder,
                               input_token=(fingerprint[0] or "") if fingerprint else "")
        return token

    def frames(self) -> list[FrameRow]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, idx, time, path, width, height, cut_distance FROM frames ORDER BY idx"
            ).fetchall()
        return [FrameRow(**dict(r)) for r in rows]

    # faces --------------------------------------------------------------------------------------
    def replace_faces(self, faces: Iterable[FaceRow], settings: dict, stats: dict,
                      folder: str) -> str:
        """Replace the faces (and so every embedding and person); return their token."""
        token = uuid.uuid4().hex[:16]  # new rows, new ids: whatever was made from the old goes
        with self.transaction() as conn:
            conn.execute("DELETE FROM people")
            conn.execute("DELETE FROM faces")
            conn.executemany(
                "INSERT INTO faces (frame_id, x, y, w, h, score, landmarks, sharpness, "
                "size, frontalness, quality, crop_path, thumb_path) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        f.frame_id, *f.box, f.score, json.dumps(f.landmarks), f.sharpness,
                        f.size, f.frontalness, f.quality, f.crop_path, f.thumb_path,
                    )
                    for f in faces
                ),
            )
            self._record_stage(conn, "face_detections", settings, stats, token, folder)
        return token

    def faces(self) -> list[FaceRow]:
        """The faces in time order, with their frame time and person (if clustered)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT faces.*, frames.time AS time FROM faces JOIN frames "
                "ON frames.id = faces.frame_id ORDER BY frames.idx, faces.id"
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
                thumb_path=r["thumb_path"],
            )
            for r in rows
        ]

    def set_embeddings(self, face_ids: Sequence[int], vectors: np.ndarray, model_id: str,
                       settings: dict, stats: dict,
                       second: tuple[str, np.ndarray] | None = None) -> str:
        """Store each face's embedding, as the recogniser gave it, as a float32 unit vector (who)
        and its length (how clearly the model saw a face); faces not listed lose any old one.
        `second`: (model id, vectors) of a second recogniser, kept beside the first as unit
        vectors. Returns the embeddings' token (their content: an identical rerun keeps it)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(face_ids):
            raise ValueError(f"expected {len(face_ids)} embeddings, got shape {vectors.shape}")
        dim = int(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1)
        vectors = np.ascontiguousarray(l2_normalize(vectors))
        second_id, others = second or (None, None)
        if others is not None:
            others = np.ascontiguousarray(l2_normalize(others))
            if len(others) != len(face_ids):
                raise ValueError(f"expected {len(face_ids)} second embeddings, got {len(others)}")
        with self.transaction() as conn:
            detections = conn.execute(
                "SELECT token FROM stage_runs WHERE stage = 'face_detections'").fetchone()
            token = content_token(detections[0] if detections else "", model_id,
                                  np.asarray(face_ids, np.int64).tobytes(), vectors.tobytes(),
                                  *(() if others is None else (second_id, others.tobytes())))
            conn.execute("DELETE FROM people")
            conn.execute(
                "UPDATE faces SET embedding = NULL, embedding_dim = NULL, embedding_model = NULL, "
                "embedding_norm = NULL, person_id = NULL, second_embedding = NULL, "
                "second_model = NULL"
            )
            conn.executemany(
                "UPDATE faces SET embedding = ?, embedding_dim = ?, embedding_model = ?, "
                "embedding_norm = ?, second_embedding = ?, second_model = ? WHERE id = ?",
                (
                    (vec.tobytes(), dim, model_id, float(norm),
                     None if others is None else others[n].tobytes(), second_id, int(fid))
                    for n, (fid, vec, norm) in enumerate(zip(face_ids, vectors, norms,
                                                             strict=True))
                ),
            )
            self._record_stage(conn, "face_embeddings", settings, stats, token)
        return token

    def embeddings(self) -> tuple[list[int], np.ndarray, str | None]:
        """(face ids, float32 unit vectors n x dim, model id) for the embedded faces."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT faces.id, embedding, embedding_dim, embedding_model FROM faces "
                "JOIN frames ON frames.id = faces.frame_id "
                "WHERE embedding IS NOT NULL ORDER BY frames.idx, faces.id"
            ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), np.float32), None
        dims = {r["embedding_dim"] for r in rows}
        models = {r["embedding_model"] for r in rows}
        if len(dims) != 1 or len(models) != 1:
            raise StoreError(
                f"{self.db_path} mixes embedding models {sorted(models)}; re-run embeddings")
        dim = dims.pop()
        matrix = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype=np.float32)
        return [r["id"] for r in rows], matrix.reshape(len(rows), dim), models.pop()

    def second_embeddings(self, face_ids: Sequence[int]) -> tuple[np.ndarray, str] | None:
        """(float32 unit vectors, model id) of the second recogniser for these faces, in their
        order; None when any of them has none (embedded by one recogniser only)."""
        if not len(face_ids):
            return None
        with self._connection() as conn:
            present = {r["name"] for r in conn.execute(
                "SELECT name FROM pragma_table_info('faces')")}
            if "second_embedding" not in present:  # a snapshot published before the column
                return None
            rows = {r["id"]: r for r in conn.execute(
                "SELECT id, second_embedding, second_model FROM faces "
                "WHERE second_embedding IS NOT NULL").fetchall()}
        if any(int(fid) not in rows for fid in face_ids):
            return None
        models = {rows[int(fid)]["second_model"] for fid in face_ids}
        if len(models) != 1:
            raise StoreError(f"{self.db_path} mixes second embedding models {sorted(models)}; "
                             "re-run embeddings")
        matrix = np.frombuffer(b"".join(rows[int(fid)]["second_embedding"] for fid in face_ids),
                               dtype=np.float32)
        return matrix.reshape(len(face_ids), -1), models.pop()
