"""One writer at a time on a shared output root.

On a filesystem (a local disk or a share mounted on every worker) it is the `flock` of
store/lock.py, which the kernel (or the NFS lock manager) drops when its process dies. Object
storage has no locks: a lease object says who holds the movie until when, and carries a
fencing token. Every write of it is conditional (store/conditional.py): created only if absent,
taken over once expired only if it is still the version read (If-Match on its ETag, with the
previous token + 1), renewed and released only if it is still the version its holder last
wrote. So of workers that find one expired lease exactly one takes it, and a holder that
stalled past its lease (a paused machine) can neither renew nor release its successor's.

Before each write to the shared root, the holder renews its lease conditionally (`Fence.check`):
a holder whose lease was taken over is refused there in one line, and writes nothing more.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from .conditional import Conflict, put, read, require_conditional_writes
from .lock import LeaseLostError, MovieBusyError, describe, writer_lock
from .pg_lease import DatabaseLease

_held: dict[str, ObjectLease | DatabaseLease] = {}  # lease path -> this process's lease on it
_held_guard = threading.Lock()


class Fence(Protocol):
    def check(self) -> None:
        """Return only while this worker still holds the lock (else LeaseLostError)."""


class _Kernel:
    """A `flock`: the kernel holds it for exactly as long as its process lives."""

    def check(self) -> None:
        return None


def is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


@contextmanager
def shared_lock(fs: AbstractFileSystem, path: str, what: str, busy_message: str,
                wait: float, lease_seconds: float, subject: str = "",
                database: str | None = None) -> Iterator[Fence]:
    """Hold the lock at `path` on `fs` for the block (MovieBusyError after `wait` seconds);
    yields the fence to check before each write. `subject` names what is locked ("movie X");
    with `database` (a PostgreSQL URL) the lease is a row there instead of an object."""
    if is_local(fs):
        fs.makedirs(str(Path(path).parent), exist_ok=True)
        with writer_lock(Path(path), what, busy_message, wait=wait):
            yield _Kernel()
        return
    lease: ObjectLease | DatabaseLease
    if database:
        info = {"what": what, "pid": os.getpid(), "host": socket.gethostname(),
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        lease = DatabaseLease(database, path, info, lease_seconds, subject or path)
    else:
        lease = ObjectLease(fs, path, what, lease_seconds, subject or path)
    lease.acquire(busy_message, wait)
    with _held_guard:
        _held[path] = lease
    try:
        yield lease
    finally:
        with _held_guard:
            if _held.get(path) is lease:
                del _held[path]
        lease.release()


def held(path: str) -> Fence | None:
    """This process's lease at `path`, if it holds one."""
    with _held_guard:
        return _held.get(path)


class ObjectLease:
    """A lease object at `path`: {what, pid, host, since, expires, token, holder}."""

    def __init__(self, fs: AbstractFileSystem, path: str, what: str, seconds: float,
                 subject: str):
        self.fs, self.path, self.what, self.seconds, self.subject = fs, path, what, seconds, subject
        self.holder = uuid.uuid4().hex  # this lease, whatever process or machine it is in
        self.since = time.strftime("%Y-%m-%d %H:%M:%S")
        self.etag: str | None = None  # of the version this holder last wrote
        self.token = 0
        self.lost: dict | None = None  # the successor, once taken over
        self.guard = threading.Lock()
        self.stop = threading.Event()
        self.renewer: threading.Thread | None = None

    def _body(self, token: int, expires: float) -> bytes:
        return json.dumps({"what": self.what, "pid": os.getpid(), "host": socket.gethostname(),
                           "since": self.since, "expires": expires, "token": token,
                           "holder": self.holder}).encode()

    def _current(self) -> tuple[dict, str | None]:
        found = read(self.fs, self.path)
        if found is None:
            return {}, None
        try:
            return json.loads(found[0]), found[1]
        except ValueError:  # not ours (or damaged): takeable once the lease time has passed
            return {"expires": 0}, found[1]

    def acquire(self, busy_message: str, wait: float) -> None:
        require_conditional_writes(self.fs, self.path)
        deadline = time.monotonic() + wait
        while True:
            current, etag = self._current()
            try:
                if etag is None:
                    self._write(1, None)
                    break
                if current.get("holder") == self.holder:  # ours: the answer was lost
                    self.etag, self.token = etag, int(current["token"])
                    break
                if float(current.get("expires", 0)) < time.time():
                    # Its holder stopped renewing (killed, stalled, cut off): the movie is free.
                    self._write(int(current.get("token", 0)) + 1, etag)
                    break
            except Conflict:
                continue  # another worker wrote it first: read what it wrote
            if time.monotonic() >= deadline:
                raise MovieBusyError(f"{busy_message} by {describe(current)}")
            time.sleep(min(1.0, self.seconds / 4))
        self.renewer = threading.Thread(target=self._renew, daemon=True,
                                        name=f"lease {self.subject}")
        self.renewer.start()

    def _write(self, token: int, etag: str | None, expires: float | None = None) -> None:
        body = self._body(token, time.time() + self.seconds if expires is None else expires)
        self.etag, self.token = put(self.fs, self.path, body, etag), token

    def check(self) -> None:
        """Renew the lease if it is still the version this holder wrote, else LeaseLostError:
        the write that follows has a whole lease time before any other worker may take over."""
        with self.guard:
            if self.lost is None:
                try:
                    self._write(self.token, self.etag)
                    return
                except Conflict:
                    current, etag = self._current()
                    if current.get("holder") == self.holder and current.get("token") == self.token:
                        self.etag = etag  # our own write, whose answer was lost
                        return
                    self.lost = current
        raise LeaseLostError(f"the lease on {self.subject} was taken over by "
                             f"{describe(self.lost)}; this worker's result is not written")

    def _renew(self) -> None:
        while not self.stop.wait(self.seconds / 3):
            try:
                self.check()
            except LeaseLostError:
                return  # the next write of this worker is refused
            except OSError:
                continue  # the network: try again; the next write checks anyway

    def release(self) -> None:
        self.stop.set()
        if self.renewer is not None:
            self.renewer.join()
        with self.guard:
            if self.lost is not None or self.etag is None:
                return
            # Kept, marked free, so that the next holder's token follows this one's; one taken
            # over meanwhile (Conflict) is the successor's, and left alone.
            with suppress(Conflict):
                self._write(self.token, self.etag, expires=0)
