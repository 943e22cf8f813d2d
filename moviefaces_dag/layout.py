"""Where each stage writes its files under the output folder.

Files of one run go in a fresh version folder; the store points at them in the same transaction
that replaces the rows, and older versions are removed only after that commit. A run killed
halfway leaves the previous files and rows intact.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

DB_NAME = "moviefaces.sqlite"


def movie_dir(output_dir: Path, key: str) -> Path:
    return Path(output_dir) / key


def report_path(output_dir: Path, key: str) -> Path:
    return movie_dir(output_dir, key) / "index.html"


def new_version_dir(output_dir: Path, key: str, kind: str) -> Path:
    path = movie_dir(output_dir, key) / kind / uuid.uuid4().hex[:12]
    path.mkdir(parents=True)
    return path


def prune_versions(version_dir: Path) -> None:
    """Remove every sibling version of `version_dir` (call after the store commit)."""
    for sibling in version_dir.parent.iterdir():
        if sibling != version_dir and sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)


def discard(version_dir: Path) -> None:
    shutil.rmtree(version_dir, ignore_errors=True)
