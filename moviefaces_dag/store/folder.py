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

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .generations import GENERATIONS, Generation, Generations, subfolders
from .library_db import LIBRARY_DB, LIBRARY_FOLDER, LIBRARY_PAGE, LibraryDB
from .lock import writer_lock
from .movie_db import MovieDB
from .schema import StoreError

DRAFT_NAME = "work.sqlite"
LOCK_NAME = ".writer.lock"
SNAPSHOT_NAME = "movie.sqlite"
REPORT_NAME = "index.html"
FILE_KINDS = ("frames", "faces")


class NotPublishedError(StoreError):
    """The movie has no complete result yet."""


# Copies a missing file of a local copy of a shared root from the root (its path there).
Fetch = Callable[[Path], None]


class MovieFolder:
    def __init__(self, path: Path, fetch: Fetch | None = None):
        self.path = Path(path)
        self.fetch = fetch  # a copy of a shared root's folder: fetches a file read but not here

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

    @property
    def generations(self) -> Generations:
        return Generations(self.path, self.report_path, lambda: self.library_references()[0])

    def library_references(self) -> tuple[set[str], set[str]]:
        """The generations and file folders of this movie that the published library's pages
        point at: kept until the library points elsewhere, so its links never break."""
        library = Generations(self.path.parent / LIBRARY_FOLDER, self.path.parent / LIBRARY_PAGE)
        generation = library.current()
        snapshot = library.path(generation) / LIBRARY_DB if generation else None
        if snapshot is None or not snapshot.is_file():
            return set(), set()
        return LibraryDB(snapshot, readonly=True).references(self.key)

    # reading ------------------------------------------------------------------------------------
    def published_generation(self) -> str | None:
        return self.generations.current()

    def published(self) -> MovieDB:
        """The published result, read-only; NotPublishedError when there is none yet."""
        generation = self.published_generation()
        if generation is None:
            raise NotPublishedError(
                f"movie {self.key} has no complete result yet; run `moviefaces run` on it")
        snapshot = self.path / GENERATIONS / generation / SNAPSHOT_NAME
        if self.fetch is not None and not snapshot.is_file():
            self.fetch(snapshot)
        return MovieDB(snapshot, readonly=True)

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
            # A folder without a draft is new (or from before drafts): nothing in it is ours to
            # finish or prune.
            known = self.exists()
            draft = Draft(self, MovieDB(self.draft_path))
            if first and known:
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

        def build(generation: Generation) -> None:
            self.db.snapshot(generation.staging / SNAPSHOT_NAME)
            render(MovieDB(generation.staging / SNAPSHOT_NAME, readonly=True), generation)

        name = self.folder.generations.publish(build)
        self._prune(name)
        return name

    def republish_moved(self, render: Callable[[MovieDB, Generation], None]) -> str | None:
        """When the movie's file was moved since its result was published (the draft names
        another path): publish that same result again naming the new path, with the pages
        `render` writes from it (so links to the file follow it); return the generation's name,
        None when there was nothing to do. The draft's other changes stay unpublished."""
        generation = self.folder.published_generation()
        if generation is None:
            return None
        path = self.db.movie().path
        if self.folder.published().movie().path == path:
            return None
        return self.republish(render, path)

    def republish(self, render: Callable[[MovieDB, Generation], None],
                  path: str | None = None) -> str | None:
        """Publish the published result again with the pages `render` writes from it (and the
        movie's file at `path`, if given); None when nothing is published. The draft's other
        changes stay unpublished."""
        if self.folder.published_generation() is None:
            return None
        published = self.folder.published()

        def build(new: Generation) -> None:
            published.snapshot(new.staging / SNAPSHOT_NAME)
            if path is not None:
                MovieDB(new.staging / SNAPSHOT_NAME).update_movie(path=path)
            render(MovieDB(new.staging / SNAPSHOT_NAME, readonly=True), new)

        name = self.folder.generations.publish(build)
        self._prune(name)
        return name

    def recover(self) -> None:
        """Finish what a stopped writer left: the published movie page in place, then every file
        and generation that nothing points at removed."""
        self.folder.generations.recover()
        self._prune(self.folder.published_generation())

    def stages_missing_files(self) -> set[str]:
        """The stages whose stored files are gone (deleted by hand, a partial restore): they must
        run again."""
        missing = set()
        if any(not self.folder.file(frame.path).is_file() for frame in self.db.frames()):
            missing.add("frames")
        if any(not self.folder.file(path).is_file() for face in self.db.faces()
               for path in (face.crop_path, face.thumb_path) if path):
            missing.add("face_detections")
        return missing

    def _prune(self, generation: str | None) -> None:
        keep = self.db.folders() | self.folder.library_references()[1]
        if generation is not None:
            keep |= self.folder.published().folders()
        for kind in FILE_KINDS:
            for version in subfolders(self.folder.path / kind):
                if f"{kind}/{version.name}" not in keep:
                    shutil.rmtree(version, ignore_errors=True)
