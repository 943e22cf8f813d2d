"""Scanning a movie folder: which files are new, changed, renamed or gone since the last look."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .movies import partition_key_for
from .store import MovieStore
from .video import MovieError, file_identity, fingerprint_file, probe_movie

VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts", ".wmv",
    ".flv", ".3gp", ".ogv", ".mxf",
)


@dataclass
class ScanResult:
    new: dict[str, str] = field(default_factory=dict)  # key -> path, registered now
    changed: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> identity
    renamed: dict[str, str] = field(default_factory=dict)  # key -> new path
    vanished: dict[str, str] = field(default_factory=dict)  # key -> old path
    # path -> (why it is not a movie, [size, mtime_ns] of the version that was rejected)
    rejected: dict[str, tuple[str, list[int]]] = field(default_factory=dict)


def video_files(folder: Path, extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in extensions and not p.name.startswith(".")
    )


def scan(
    folder: Path | None,
    store: MovieStore,
    settle_seconds: float,
    rejected_before: dict[str, list[int]],
) -> ScanResult:
    """Register new movies found in `folder` and report changes to every registered movie.

    A file still being written (modified within `settle_seconds`) waits for a later scan. A file
    that fails to open as a video is reported once per version of it. A registered movie whose
    file is gone but whose bytes reappear under another name keeps its partition (renamed).
    """
    result = ScanResult()
    registered = store.movie_keys()
    missing = {key: path for key, path in registered.items() if not Path(path).exists()}
    known_paths = set(registered.values())
    now = time.time()
    for path in video_files(folder) if folder and folder.is_dir() else []:
        resolved = str(path.resolve())
        if resolved in known_paths:
            continue
        size, mtime_ns, _ = file_identity(path)
        if now - mtime_ns / 1e9 < settle_seconds:
            continue
        if rejected_before.get(resolved) == [size, mtime_ns]:
            continue
        renamed_key = _renamed_from(path, size, missing, store)
        if renamed_key:
            store.register_movie(renamed_key, resolved)
            result.renamed[renamed_key] = resolved
            missing.pop(renamed_key)
            continue
        try:
            probe_movie(path)
        except MovieError as exc:
            result.rejected[resolved] = (str(exc), [size, mtime_ns])
            continue
        key = partition_key_for(path, registered)
        store.register_movie(key, resolved)
        registered[key] = resolved
        result.new[key] = resolved
    for key, path in registered.items():
        if key in result.new or key in result.renamed:
            continue
        if key in missing:
            result.vanished[key] = path
            continue
        movie = store.get_movie(key)
        identity = file_identity(Path(path))
        if movie.size is not None and identity != (movie.size, movie.mtime_ns, movie.inode):
            result.changed[key] = identity
    return result


def _renamed_from(path: Path, size: int, missing: dict[str, str], store: MovieStore) -> str | None:
    candidates = [k for k in missing if store.get_movie(k).size == size]
    if not candidates:
        return None
    fingerprint = fingerprint_file(path)
    for key in candidates:
        if store.get_movie(key).fingerprint == fingerprint:
            return key
    return None
