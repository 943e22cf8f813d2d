"""Writing files so that a reader, or a crash, never sees half of one."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path

from ..core.faults import fault_point
from ..core.processes import process_alive

# Where people's decisions are kept, in a movie's folder and the library's (kept apart from
# computed data; the store copies them between machines).
DECISIONS_NAME = "decisions.json"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# A file or folder being written: `.NAME.tmp-PID`, moved into place when whole.
TEMPORARY = re.compile(r"\..+\.tmp-(\d+)")


def temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` in one step: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        fault_point(f"written:{path.name}")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def remove_leftovers(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files and folders in `folder` (of `name` only, if given) whose
    writer is gone: a process killed while writing leaves them; a live writer's are kept.
    Return what was removed."""
    removed = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = TEMPORARY.fullmatch(path.name)
        if (match and (name is None or path.name.startswith(f".{name}.tmp-"))
                and not process_alive(int(match.group(1)), path.lstat().st_mtime)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def fsync_tree(path: Path, durable: Collection[Path] = ()) -> None:
    """Flush every file and folder below `path` to disk (before it is published); the files in
    `durable` (hard links to files already flushed) need only their folder's."""
    skip = {str(p) for p in durable}
    for folder, _, names in os.walk(path):
        for name in names:
            if os.path.join(folder, name) in skip:
                continue
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))
