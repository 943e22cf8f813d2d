"""A movie's folder: its working store, its published result and the files they point at.

    <output>/<movie>/
        work.sqlite            the draft: what the stages read and write, one writer at a time
        .writer.lock           held by that writer (store/lock.py)
        published.json         names the published generation: the commit point
        g/<generation>/        a published result: movie.sqlite (a snapshot of the draft, never
                               changed again) and the report's pages
        index.html             the published movie page (a copy of g/<generation>/main.html)
        frames/<version>/      sampled frames, faces/<version>/ face crops: written once
        dataset/<format>/      exports

Stages change the draft; readers (report, exports, evaluation, the library) see only the
published result. Publishing snapshots a consistent draft with its pages into a new generation,
then switches `published.json` in one rename, so a crash at any point leaves the old result or the
new one. Files are pruned only after that switch, and only those that neither the draft nor the
published result points at.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..faults import fault_point
from .files import fsync_tree, write_atomic
from .lock import writer_lock
from .movie_db import MovieDB, StoreError

DRAFT_NAME = "work.sqlite"
LOCK_NAME = ".writer.lock"
POINTER_NAME = "published.json"
GENERATIONS = "g"
SNAPSHOT_NAME = "movie.sqlite"
MAIN_PAGE = "main.html"  # in a generation: the movie page, rendered for <movie>/index.html
REPORT_NAME = "index.html"
FILE_KINDS = ("frames", "faces")


class NotPublishedError(StoreError):
    """The movie has no complete result yet."""


@dataclass(frozen=True)
class Generation:
    """A result being published: its name, the folder it will have once published (relative
    to the movie's folder, for links), and the folder its pages are written into now."""

    name: str
    folder: str
    staging: Path


class MovieFolder:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def key(self) -> str:
        return self.path.name

    @property
    def draft_path(self) -> Path:
        return self.path / DRAFT_NAME

    @property
    def report_path(self) -> Path:
        return self.path / REPORT_NAME

    def exists(self) -> bool:
        return self.draft_path.is_file()

    def file(self, relative: str) -> Path:
        """A stored file path, relative to this folder (absolute ones, from old stores, stay)."""
        return self.path / relative

    # reading ------------------------------------------------------------------------------------
    def published_generation(self) -> str | None:
        try:
            return json.loads((self.path / POINTER_NAME).read_text())["generation"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"{self.path / POINTER_NAME} is damaged ({exc})") from exc

    def published(self) -> MovieDB:
        """The published result, read-only; NotPublishedError when there is none yet."""
        generation = self.published_generation()
        if generation is None:
            raise NotPublishedError(
                f"movie {self.key} has no complete result yet; run `moviefaces run` on it")
        return MovieDB(self.path / GENERATIONS / generation / SNAPSHOT_NAME, readonly=True)

    def draft_db(self) -> MovieDB:
        """The draft, for reading (tests, evaluation scripts); writers use `writing()`."""
        if not self.exists():
            raise StoreError(f"movie {self.key} is not registered in {self.path.parent}")
        return MovieDB(self.draft_path)

    # writing ------------------------------------------------------------------------------------
    @contextmanager
    def writing(self, what: str) -> Iterator[Draft]:
        """Be this movie's one writer for the block (MovieBusyError if another process is)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with writer_lock(self.path / LOCK_NAME, what,
                         f"movie {self.key} is already being processed") as first:
            draft = Draft(self, MovieDB(self.draft_path))
            if first:
                draft.recover()
            yield draft


class Draft:
    """The movie's working store and folder, held by its one writer."""

    def __init__(self, folder: MovieFolder, db: MovieDB):
        self.folder = folder
        self.db = db

    @contextmanager
    def new_version(self, kind: str) -> Iterator[tuple[Path, str]]:
        """A fresh folder for one stage run's files of `kind`: (path, path relative to the
        movie's folder). Removed if the block fails; otherwise kept until neither the draft nor
        the published result points at it."""
        relative = f"{kind}/{uuid.uuid4().hex[:12]}"
        path = self.folder.path / relative
        path.mkdir(parents=True)
        try:
            yield path, relative
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise

    def publish(self, render: Callable[[MovieDB, Generation], None]) -> str:
        """Publish the draft with the pages `render` writes; return the generation's name.

        `render` gets the snapshot (read-only) and writes its pages into `generation.staging`,
        the movie page as MAIN_PAGE. Refused while any stage is missing or out of date."""
        stale = self.db.stale_stages()
        if stale:
            raise StoreError(
                f"movie {self.folder.key} cannot be published: {', '.join(stale)} "
                "missing or made from older data; run them first (the published result is kept)")
        root = self.folder.path / GENERATIONS
        previous = self.folder.published_generation()
        number = int(previous.split("-")[0]) + 1 if previous else 1
        name = f"{number:06d}-{uuid.uuid4().hex[:6]}"
        staging = root / f".{name}.tmp"
        staging.mkdir(parents=True)
        try:
            self.db.snapshot(staging / SNAPSHOT_NAME)
            render(MovieDB(staging / SNAPSHOT_NAME, readonly=True),
                   Generation(name, f"{GENERATIONS}/{name}", staging))
            if not (staging / MAIN_PAGE).is_file():
                raise StoreError(f"the report of {self.folder.key} wrote no {MAIN_PAGE}")
            fsync_tree(staging)
            fault_point("publish:staged")
            staging.rename(root / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fault_point("publish:renamed")
        write_atomic(self.folder.path / POINTER_NAME, json.dumps(
            {"generation": name, "published_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        fault_point("publish:switched")
        self.recover()
        return name

    def recover(self) -> None:
        """Finish what a stopped writer left: the published movie page in place, then every file
        and generation that nothing points at removed."""
        generation = self.folder.published_generation()
        if generation is not None:
            page = (self.folder.path / GENERATIONS / generation / MAIN_PAGE).read_bytes()
            report = self.folder.report_path
            if not report.is_file() or report.read_bytes() != page:
                write_atomic(report, page)
                fault_point("publish:installed")
        self._prune(generation)

    def _prune(self, generation: str | None) -> None:
        keep = self.db.folders()
        if generation is not None:
            keep |= self.folder.published().folders()
        for kind in FILE_KINDS:
            for version in _subfolders(self.folder.path / kind):
                if f"{kind}/{version.name}" not in keep:
                    shutil.rmtree(version, ignore_errors=True)
        for old in _subfolders(self.folder.path / GENERATIONS):
            if old.name != generation:
                shutil.rmtree(old, ignore_errors=True)


def _subfolders(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []
