"""One writer per movie: an advisory lock on a file in the movie's folder.

The kernel releases a `flock` when its process ends, however it ends, so a crashed or killed
writer never leaves a movie locked. The holder writes who it is into the file, so a second writer
can say who is busy with the movie. Within one process the lock is re-entrant: `moviefaces run`
holds it for the whole run while the stages it runs in-process take it again.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_held: dict[str, list[int]] = {}  # lock path -> [fd, depth], for this process
_guard = threading.Lock()


class MovieBusyError(Exception):
    """Another process is writing this movie."""


class LeaseLostError(MovieBusyError):
    """This worker's lease ran out and another worker took the movie over."""


def holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def describe(info: dict) -> str:
    what = info.get("what") or "another process"
    pid, host, since = info.get("pid"), info.get("host"), info.get("since")
    where = f" (pid {pid} on {host}" + (f", since {since})" if since else ")") if pid else ""
    return f"{what}{where}"


def _acquire(path: Path, key: str, busy_message: str, wait: float) -> int:
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise MovieBusyError(f"{busy_message} by {describe(holder(path))}") from None
            time.sleep(0.2)


@contextmanager
def writer_lock(path: Path, what: str, busy_message: str, wait: float = 0.0) -> Iterator[bool]:
    """Hold the lock at `path` for the block; MovieBusyError(busy_message + holder) if another
    process still holds it after `wait` seconds. Yields whether this call took it (False: this
    process held it already)."""
    key = str(path.resolve())
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    first = entry is None
    if first:
        fd = _acquire(path, key, busy_message, wait)
        info = {"what": what, "pid": os.getpid(), "host": socket.gethostname(),
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        with _guard:
            _held[key] = [fd, 1]
    try:
        yield first
    finally:
        with _guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                os.ftruncate(entry[0], 0)
                os.close(entry[0])  # closing the descriptor releases the flock
