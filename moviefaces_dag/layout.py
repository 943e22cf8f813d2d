"""Where each stage writes its files under the output folder.

Files of one run go in a fresh version folder; the store points at them in the same transaction
that replaces the rows, and older versions are removed only after that commit. A run killed
halfway leaves the previous files and rows intact.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "moviefaces.sqlite"


def movie_dir(output_dir: Path, key: str) -> Path:
    return Path(output_dir) / key


def report_path(output_dir: Path, key: str) -> Path:
    return movie_dir(output_dir, key) / "index.html"


@contextmanager
def new_version(output_dir: Path, key: str, kind: str) -> Iterator[Path]:
    """A fresh version folder for one run's files of `kind`.

    If the block fails the folder is removed; if it succeeds (the store now points at it) the
    older versions are removed.
    """
    path = movie_dir(output_dir, key) / kind / uuid.uuid4().hex[:12]
    path.mkdir(parents=True)
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    for sibling in path.parent.iterdir():
        if sibling != path and sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)
