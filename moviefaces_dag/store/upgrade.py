"""Output folders made before per-movie stores: moved into a store per movie on first open.

Before, one `moviefaces.sqlite` at the output root held every movie, with absolute file paths.
Each movie gets its own working store with the same rows (paths made relative to its folder)
and, when its result was complete, a published generation with its report re-rendered; the old
file is then kept beside as `moviefaces.sqlite.migrated`. Nothing is deleted but the old
report's person pages, which the published ones replace.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

from . import STAGES, MovieDB, MovieFolder, OutputRoot
from .folder import DRAFT_NAME
from .generations import Generation
from .movie_db import MOVIE_FIELDS

LEGACY_NAME = "moviefaces.sqlite"
MIGRATED_NAME = "moviefaces.sqlite.migrated"
# Writes a published movie's pages (the report's job: the store only publishes them).
Render = Callable[[MovieDB, Generation], object]


def open_output(path: Path | str, render: Render) -> OutputRoot:
    """The output root at `path`, upgraded first if it was made by an older version (`render`
    writes a published movie's pages)."""
    root = OutputRoot(path)
    legacy = root.path / LEGACY_NAME
    if legacy.is_file():
        with root.registering():
            if legacy.is_file():  # another process may have upgraded it while we waited
                upgrade(root, legacy, render)
    return root


def upgrade(root: OutputRoot, legacy: Path, render: Render) -> list[str]:
    """Move every movie of the single-file store `legacy` into its own; return their keys."""
    source = sqlite3.connect(legacy)
    source.row_factory = sqlite3.Row
    try:
        keys = [r["key"] for r in source.execute("SELECT key FROM movies ORDER BY key")]
        for key in keys:
            _upgrade_movie(source, MovieFolder(root.path / key), render)
    finally:
        source.close()
    os.replace(legacy, root.path / MIGRATED_NAME)
    return keys


def _upgrade_movie(source: sqlite3.Connection, folder: MovieFolder, render: Render) -> None:
    key = folder.key
    with folder.writing("upgrading the output folder") as draft:
        staging = folder.path / f".{DRAFT_NAME}.upgrading"
        staging.unlink(missing_ok=True)
        _copy_rows(source, MovieDB(staging), key, folder.path)
        os.replace(staging, folder.draft_path)
        if not draft.db.stale_stages():
            draft.publish(render)
            for page in [*folder.path.glob("person-*.html"), folder.path / "unassigned.html"]:
                page.unlink(missing_ok=True)


def _relative(path: str, key: str, movie_dir: Path) -> str:
    """A stored absolute path as a path relative to the movie's folder, also when the output
    folder was moved since (then found by the movie's folder name in it)."""
    try:
        return Path(path).relative_to(movie_dir).as_posix()
    except ValueError:
        marker = f"/{key}/"
        return path.rsplit(marker, 1)[1] if marker in path else path


def _copy_rows(source: sqlite3.Connection, target: MovieDB, key: str, movie_dir: Path) -> None:
    movie = source.execute("SELECT * FROM movies WHERE key = ?", (key,)).fetchone()
    runs = {r["stage"]: r for r in source.execute(
        "SELECT * FROM stage_runs WHERE movie_key = ?", (key,))}
    frames = source.execute("SELECT * FROM frames WHERE movie_key = ?", (key,)).fetchall()
    faces = source.execute("SELECT * FROM faces WHERE movie_key = ?", (key,)).fetchall()
    people = source.execute("SELECT * FROM people WHERE movie_key = ?", (key,)).fetchall()
    folders = {"frames": {_relative(f["path"], key, movie_dir).rsplit("/", 1)[0]
                          for f in frames},
               "face_detections": {_relative(f["crop_path"], key, movie_dir).rsplit("/", 1)[0]
                                   for f in faces}}
    with target.transaction() as conn:
        conn.execute(
            f"INSERT INTO movie (id, key, {', '.join(MOVIE_FIELDS)}) "  # names: fixed fields
            f"VALUES (1, ?, {', '.join('?' * len(MOVIE_FIELDS))})",
            (key, *(movie[f] for f in MOVIE_FIELDS)))
        conn.executemany(
            "INSERT INTO frames (id, idx, time, path, width, height, cut_distance) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((f["id"], f["idx"], f["time"], _relative(f["path"], key, movie_dir), f["width"],
              f["height"], f["cut_distance"]) for f in frames))
        conn.executemany(
            "INSERT INTO faces (id, frame_id, x, y, w, h, score, landmarks, sharpness, size, "
            "frontalness, quality, crop_path, embedding, embedding_dim, embedding_model, "
            "embedding_norm, person_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((f["id"], f["frame_id"], f["x"], f["y"], f["w"], f["h"], f["score"],
              f["landmarks"], f["sharpness"], f["size"], f["frontalness"], f["quality"],
              _relative(f["crop_path"], key, movie_dir), f["embedding"], f["embedding_dim"],
              f["embedding_model"], f["embedding_norm"], f["person_id"]) for f in faces))
        conn.executemany(
            "INSERT INTO people (person_id, face_count, first_seen, last_seen, best_face_id) "
            "VALUES (?, ?, ?, ?, ?)",
            ((p["person_id"], p["face_count"], p["first_seen"], p["last_seen"],
              p["best_face_id"]) for p in people))
        # The stages as they were, chained by fresh tokens (they were consistent before).
        previous = movie["fingerprint"] or ""
        for stage in STAGES:
            run = runs.get(stage)
            if run is None:
                break
            token = f"upgraded-{uuid.uuid4().hex[:8]}"
            stage_folders = folders.get(stage, set())
            conn.execute(
                "INSERT INTO stage_runs (stage, settings, stats, finished_at, token, "
                "input_token, folder) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (stage, run["settings"], run["stats"], run["finished_at"], token, previous,
                 next(iter(stage_folders)) if len(stage_folders) == 1 else None))
            previous = token
