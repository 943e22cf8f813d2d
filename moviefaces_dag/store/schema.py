"""The tables of one movie's store, and the stages that fill them."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A store lookup failed in a way the user can act on."""


# SQLite's result codes for a disk that refuses writes: full, failing, read-only.
_DISK_CODES = {13: "no space left on device", 10: "the disk failed a read or write",
               8: "the file or its folder is read-only"}


def database_error(path: Path | str, exc: sqlite3.DatabaseError, damaged_advice: str = ""
                   ) -> StoreError:
    """A StoreError naming the database: a refusing disk (what is kept), else a damaged
    file (with `damaged_advice`, what to do)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        code &= 0xFF  # extended codes keep the primary one in the low byte
    elif "disk is full" in str(exc):
        code = 13
    if code in _DISK_CODES:
        return StoreError(f"{path}: {_DISK_CODES[code]} ({exc}); the published results stay "
                          "readable")
    return StoreError(f"{path}: {exc}{f' ({damaged_advice})' if damaged_advice else ''}")


def content_token(*parts: bytes | str) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


SCHEMA = """
CREATE TABLE IF NOT EXISTS movie (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT NOT NULL,
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
    idx INTEGER NOT NULL UNIQUE,
    time REAL NOT NULL,
    path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    cut_distance REAL
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    score REAL NOT NULL,
    landmarks TEXT NOT NULL,
    sharpness REAL NOT NULL,
    size REAL NOT NULL,
    frontalness REAL NOT NULL,
    quality REAL NOT NULL,
    crop_path TEXT NOT NULL,
    thumb_path TEXT,
    embedding BLOB,
    embedding_dim INTEGER,
    embedding_model TEXT,
    embedding_norm REAL,
    person_id INTEGER
);
CREATE INDEX IF NOT EXISTS faces_frame ON faces(frame_id);
CREATE TABLE IF NOT EXISTS people (
    person_id INTEGER PRIMARY KEY,
    face_count INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    best_face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL
);
-- Who each person was, by face place (frame time and box): re-clustering keeps a person's id
-- when it is substantially the same faces, also after detection or embeddings were redone.
CREATE TABLE IF NOT EXISTS membership (
    person_id INTEGER NOT NULL,
    time REAL NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS membership_time ON membership(time);
-- Names given by the user (a copy of the decisions in force when the people were made).
CREATE TABLE IF NOT EXISTS names (
    person_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
-- Counters that must never go back: person ids are never given twice.
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_runs (
    stage TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    stats TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT (datetime('now')),
    token TEXT NOT NULL,
    input_token TEXT NOT NULL,
    folder TEXT
);
"""

# Columns added since the first per-movie stores: working stores made before gain them on open.
ADDED_COLUMNS = {"faces": {"thumb_path": "TEXT",
                           # the second recogniser's vector (unit length) and its model id
                           "second_embedding": "BLOB", "second_model": "TEXT"},
                 "people": {"hidden": "INTEGER NOT NULL DEFAULT 0"}}
# The stages that write into the store, each reading the one before it.
STAGES = ("frames", "face_detections", "face_embeddings", "face_clusters")
UPSTREAM = dict(zip(STAGES[1:], STAGES[:-1], strict=True))
