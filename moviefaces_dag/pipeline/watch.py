"""Scanning a movie folder: which files are new, changed, renamed or gone since the last look.

A scan only registers files (idempotent: the same file keeps its key), so a sensor tick that
fails after it leaves nothing half done: the next tick finds the same movies again. It never
reads a whole movie: a renamed file is recognised by its size and modification time, and the
movie's refresh run checks its content. A new file is registered only when it is whole
(media/whole.py: its container's structure and its last second), not the first part of a copy
that stalled longer than the settle time; the whole file, once there, has another size and time,
so it is looked at again and gets its own run (`version_text` in the run key).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..media.sources import MovieSources, is_url, plain_sources
from ..media.video import MovieError, file_identity, probe_movie
from ..media.whole import check_whole
from ..store import MovieBusyError, OutputRoot
from ..store.shared import SharedRoot
from .stages import follow_move

VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts", ".wmv",
    ".flv", ".3gp", ".ogv", ".mxf",
)
# New files opened per scan: each is probed (its container read), and a sensor tick has a time
# limit; the rest wait for the next scan.
MAX_NEW_PER_SCAN = 20


@dataclass
class ScanResult:
    found: dict[str, str] = field(default_factory=dict)  # key -> path of every movie in folder
    changed: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> identity
    renamed: dict[str, str] = field(default_factory=dict)  # key -> new path
    vanished: dict[str, str] = field(default_factory=dict)  # key -> old path
    # path -> (why it is not a movie, [size, mtime_ns] of the version that was rejected)
    rejected: dict[str, tuple[str, list[int]]] = field(default_factory=dict)


def video_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and _is_video(p.name))


def version_text(location: str | Path, sources: MovieSources | None = None) -> str:
    """The movie's size and modification time, for a run key: another version, another run."""
    identity = (sources or plain_sources()).identity(str(location))
    return "gone" if identity is None else f"{identity[0]}:{identity[1]}"


def scan(
    folder: Path | str | None,
    root: OutputRoot | SharedRoot,
    settle_seconds: float,
    rejected_before: dict[str, list[int]],
    sources: MovieSources | None = None,
) -> ScanResult:
    """Register the movies in `folder` (a path, or a URL of an object-storage prefix) and
    report changes to every registered movie.

    A file still being written (modified within `settle_seconds`) waits for a later scan. A file
    that fails to open as a video is reported once per version of it. A registered movie whose
    file is gone and reappears under another name keeps its key (renamed). Movies are
    registered by their location (media/sources.py).
    """
    sources = sources or plain_sources()
    result = ScanResult()
    registered = root.movies()
    by_location = {row.path: key for key, row in registered.items()}
    identities = {key: sources.identity(row.path) for key, row in registered.items()}
    missing = {key for key, identity in identities.items() if identity is None}
    now, opened = time.time(), 0
    for location, (size, mtime_ns, _) in _candidates(folder, sources):
        if location in by_location:
            result.found[by_location[location]] = location
            continue
        if now - mtime_ns / 1e9 < settle_seconds or rejected_before.get(location) == [size,
                                                                                   mtime_ns]:
            continue
        if opened == MAX_NEW_PER_SCAN:
            continue
        opened += 1
        try:
            with sources.opened(location) as path:
                probe_movie(path)
                if not is_url(location):  # an object exists only once uploaded whole
                    check_whole(path)
        except MovieError as exc:
            result.rejected[location] = (str(exc), [size, mtime_ns])
            continue
        key = root.register(location, hash_moves=False)
        result.found[key] = location
        if key in missing:
            result.renamed[key] = location
            missing.discard(key)
            if isinstance(root, OutputRoot):
                follow_moves(root, key)
    for key, row in registered.items():
        if key in result.renamed:
            continue
        if key in missing:
            result.vanished[key] = row.path
        elif row.size is not None and identities[key] != (row.size, row.mtime_ns, row.inode):
            result.changed[key] = identities[key]
    return result


def _candidates(folder: Path | str | None,
                sources: MovieSources) -> list[tuple[str, tuple[int, int, int]]]:
    """(location, identity) of every video file in the watched folder or prefix."""
    if not folder:
        return []
    if is_url(str(folder)):
        return [(location, identity) for location, identity in sources.listing(str(folder))
                if _is_video(location)]
    if not Path(folder).is_dir():
        return []
    return [(sources.location(path), file_identity(path)) for path in video_files(Path(folder))]


def _is_video(location: str) -> bool:
    name = location.rsplit("/", 1)[-1]
    return name.lower().endswith(VIDEO_EXTENSIONS) and not name.startswith(".")


def follow_moves(root: OutputRoot, key: str) -> str | None:
    """The movie's published pages again, naming its file's new path, if it was moved since they
    were published; the generation published, else None. A movie being processed is left to
    its writer: its run publishes the new path (the refresh run that a rename starts, too)."""
    folder = root.folder(key)
    if folder.published_generation() is None or \
            folder.published().movie().path == folder.draft_db().movie().path:
        return None
    try:
        with folder.writing("following the moved movie file") as draft:
            return follow_move(draft)
    except MovieBusyError:
        return None
