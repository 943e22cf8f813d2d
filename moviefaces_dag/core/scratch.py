"""A machine's scratch folder, bounded: what a worker copied there (movies read from object
storage, its local copies of a shared root) is evicted once unused for `max_age` seconds, and
the least recently used first while the folder holds more than `max_bytes`.

An entry (a file or a folder) is in use while a process holds a shared `flock` on its lock
file (`using`); eviction takes the lock exclusively without waiting and passes over entries in
use, so two steps of one machine never remove each other's copies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS = ".locks"
# The entries, below the scratch folder: copies of movies in object storage (media/sources.py),
# and per shared root its writers' copies by movie and its library copy (store/shared.py).
ENTRIES = ("sources/*", "*/movies/*", "*/library")


def default_scratch_dir() -> Path:
    return Path(tempfile.gettempdir()) / "moviefaces-scratch"


def tree_bytes(path: Path) -> int:
    """Bytes of the files at or below `path` (0 when it is gone)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile by its user
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


class Scratch:
    """The scratch folder `top`, kept under `max_bytes` and `max_age` seconds of disuse."""

    def __init__(self, top: Path, max_bytes: int, max_age: float):
        self.top = Path(top).absolute()
        self.max_bytes = max_bytes
        self.max_age = max_age

    def _lock_path(self, entry: Path) -> Path:
        name = hashlib.sha1(str(entry.absolute()).encode()).hexdigest()[:20]
        return self.top / LOCKS / name

    @contextmanager
    def using(self, entry: Path) -> Iterator[Path]:
        """Hold `entry` (a path below `top`) against eviction for the block; its last use is
        now."""
        lock = self._lock_path(entry)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            os.utime(lock)
            yield entry
            os.utime(lock)
        finally:
            os.close(fd)

    def entries(self) -> list[Path]:
        return [p for pattern in ENTRIES for p in self.top.glob(pattern)
                if not p.name.startswith(".")]

    def trim(self, entries: Iterable[Path] | None = None) -> list[Path]:
        """Evict, of `entries` (default: every entry), those unused for `max_age`, then the
        least recently used while the scratch folder holds more than `max_bytes`; entries in
        use stay. What was evicted."""
        now = time.time()
        entries = self.entries() if entries is None else entries
        candidates = []
        for entry in entries:
            lock = self._lock_path(entry)
            used = lock.stat().st_mtime if lock.exists() else _mtime(entry)
            candidates.append((used, entry))
        total = tree_bytes(self.top)
        evicted = []
        for used, entry in sorted(candidates, key=lambda c: c[0]):
            if now - used < self.max_age and total <= self.max_bytes:
                break
            size = tree_bytes(entry)
            if self._evict(entry):
                total -= size
                evicted.append(entry)
        return evicted

    def _evict(self, entry: Path) -> bool:
        lock = self._lock_path(entry)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # in use by another step of this machine
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            # The lock file stays: a step waiting on it must not lock a new one apart.
            return True
        finally:
            os.close(fd)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
