"""One writer at a time on a shared output root.

On a filesystem (a local disk or a share mounted on every worker) it is the `flock` of
store/lock.py, which the kernel (or the NFS lock manager) drops when its process dies. Object
storage has no locks: a lease object is created only if absent (a conditional write, atomic on
S3), renewed while its holder works and taken over once it has expired, so a killed worker's
movie is free again once its lease runs out (setting store.lease_seconds).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from .lock import MovieBusyError, describe, writer_lock


def is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


@contextmanager
def shared_lock(fs: AbstractFileSystem, path: str, what: str, busy_message: str,
                wait: float, lease_seconds: float) -> Iterator[None]:
    """Hold the lock at `path` on `fs` for the block (MovieBusyError after `wait` seconds)."""
    if is_local(fs):
        fs.makedirs(str(Path(path).parent), exist_ok=True)
        with writer_lock(Path(path), what, busy_message, wait=wait):
            yield
        return
    lease = _Lease(fs, path, what, lease_seconds)
    lease.acquire(busy_message, wait)
    try:
        yield
    finally:
        lease.release()


class _Lease:
    def __init__(self, fs: AbstractFileSystem, path: str, what: str, seconds: float):
        self.fs, self.path, self.what, self.seconds = fs, path, what, seconds
        self.stop = threading.Event()
        self.renewer: threading.Thread | None = None

    def _body(self) -> bytes:
        return json.dumps({"what": self.what, "pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "expires": time.time() + self.seconds}).encode()

    def _holder(self) -> dict:
        try:
            return json.loads(self.fs.cat_file(self.path))
        except (FileNotFoundError, ValueError):
            return {}

    def acquire(self, busy_message: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                with self.fs.open(self.path, "xb") as handle:
                    handle.write(self._body())
                break
            except FileExistsError:
                holder = self._holder()
                if holder.get("expires", 0) < time.time():
                    # Its holder stopped renewing (killed, or cut off): the movie is free.
                    self.fs.rm_file(self.path)
                    continue
                if time.monotonic() >= deadline:
                    raise MovieBusyError(f"{busy_message} by {describe(holder)}") from None
                time.sleep(1.0)
        self.renewer = threading.Thread(target=self._renew, daemon=True)
        self.renewer.start()

    def _renew(self) -> None:
        while not self.stop.wait(self.seconds / 3):
            self.fs.pipe_file(self.path, self._body())

    def release(self) -> None:
        self.stop.set()
        if self.renewer is not None:
            self.renewer.join()
        self.fs.rm_file(self.path)
