"""An output root that several machines share: a folder mounted on each of them (at any path,
the same or not) or object storage (`s3://bucket/prefix`, any fsspec URL via universal-pathlib).

No SQLite file is ever opened there. A step takes the movie's lock on the root, copies what it
needs into a local mirror (its scratch), works there exactly as on a local root, then writes
back whole files in an order that keeps the previous complete result readable at every moment:

    1. new frame and face folders, each marked complete by a last file (an unmarked one is the
       leftover of a stopped upload: nothing points at it and it is pruned),
    2. a newly published generation, then `published.json` (the commit point readers follow),
       then the movie page,
    3. the draft (one object, or a rename on a filesystem), then `movie.json` (the movie's row,
       which registration and the folder sensor read instead of every draft),
    4. folders and generations that nothing points at any more are removed.

The layout is the local one (store/folder.py), so the pages work from a bucket's static
hosting or a synced folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from upath import UPath

from ..core.scratch import Scratch
from ..media.sources import normalized
from .files import DECISIONS_NAME
from .folder import (
    DRAFT_NAME,
    FILE_KINDS,
    LOCK_NAME,
    REPORT_NAME,
    SNAPSHOT_NAME,
    Draft,
    MovieFolder,
)
from .generations import GENERATIONS, MAIN_PAGE, POINTER_NAME, Generations
from .lease import Fence, held, is_local, shared_lock
from .library_db import (
    ENTRIES_FOLDER,
    ENTRIES_INDEX,
    LIBRARY_DB,
    LIBRARY_FOLDER,
    LIBRARY_PAGE,
    LINKS_NAME,
    LibraryDB,
)
from .movie_db import MovieDB
from .output import RESERVED, OutputRoot, new_key
from .rows import MovieRow
from .schema import StoreError

MOVIE_JSON = "movie.json"
COMPLETE = ".complete"  # last file of an uploaded frame or face folder
LIBRARY = LIBRARY_FOLDER
REGISTER_LOCK = ".register.lock"
LIBRARY_LOCK_WAIT = 600.0  # one library writer at a time: a second waits its turn


def is_url(location: str) -> bool:
    return "://" in location


class SharedRoot:
    """The output root at `url`, worked on through local copies under `scratch`."""

    def __init__(self, url: str, scratch: Path | Scratch, lease_seconds: float,
                 lease_database: str | None = None):
        # Other machines change the root at any time: never answer from a cached listing.
        top = UPath(url) if not is_url(url) else UPath(url, use_listings_cache=False)
        self.url = str(top).rstrip("/")
        self.fs = top.fs
        self.base = top.path.rstrip("/")
        self.lease_seconds = lease_seconds
        self.lease_database = lease_database  # PostgreSQL for the leases, else lease objects
        # Unbounded unless given as a Scratch (the store resource gives the settings' bounds).
        self.scratch = scratch if isinstance(scratch, Scratch) else \
            Scratch(Path(scratch), max_bytes=1 << 62, max_age=float("inf"))
        mirror = self.scratch.top / hashlib.sha1(self.url.encode()).hexdigest()[:12]
        self.movies_mirror = OutputRoot(mirror / "movies")  # a writer's copies, by movie
        # published results only; a snapshot not copied yet is fetched when it is read
        self.library_mirror = OutputRoot(mirror / "library", self._fetch_into_library_mirror)

    def remote(self, *parts: str) -> str:
        return "/".join([self.base, *parts])

    # the movies ---------------------------------------------------------------------------------
    def registered_keys(self) -> list[str]:
        return sorted(self.movies())

    def movies(self) -> dict[str, MovieRow]:
        """Every registered movie's row, by key."""
        paths = self.fs.glob(self.remote("*", MOVIE_JSON))
        rows = self.fs.cat(paths) if paths else {}
        return {path.rstrip("/").split("/")[-2]: MovieRow(**json.loads(data))
                for path, data in rows.items()}

    def register(self, location: str | Path, hash_moves: bool = False) -> str:
        """The key of the movie at `location` (media/sources.py): its own if registered there,
        else a new one. (A moved file is a new movie here: finding it by content would mean
        reading every draft.)"""
        resolved = normalized(location)
        with self._locked(REGISTER_LOCK, "registering a movie", "movies are being registered",
                          LIBRARY_LOCK_WAIT, "the register of movies") as fence:
            movies = self.movies()
            for key, row in movies.items():
                if row.path == resolved:
                    return key
            names = {p.rstrip("/").rsplit("/", 1)[-1] for p in self._list(self.base)}
            key = new_key(Path(resolved.split("://", 1)[-1]), set(movies) | names | RESERVED)
            folder = MovieFolder(self.movies_mirror.path / key)
            shutil.rmtree(folder.path, ignore_errors=True)
            with folder.writing("registering the movie") as draft:
                draft.db.set_movie(key, resolved)
            self._push(folder, fence)
            return key

    @contextmanager
    def writing(self, key: str, what: str, needs: Collection[str] = ()) -> Iterator[Draft]:
        """Be the movie's one writer for the block, on a local copy holding its draft, its
        published result and the file folders of the kinds in `needs` ("frames", "faces");
        what the block leaves is written back when it ends without an error."""
        if not self.fs.exists(self.remote(key, MOVIE_JSON)):
            raise StoreError(f"movie {key!r} is not registered in {self.url}; "
                             "run `moviefaces add MOVIE` first")
        # A killed writer's lease runs out: a retried step waits for that rather than fail.
        with self._locked(f"{key}/{LOCK_NAME}", what,
                          f"movie {key} is already being processed", 2 * self.lease_seconds,
                          f"movie {key}") as fence, \
                self.scratch.using(self.movies_mirror.path / key):
            folder = self._pull(key, needs)
            with folder.writing(what) as draft:
                yield draft
            self._push(folder, fence)
        self.scratch.trim()

    def reading(self, key: str) -> MovieFolder:
        """A local copy of the movie's small files (decisions, publication pointer)."""
        folder = MovieFolder(self.movies_mirror.path / key)
        for name in (POINTER_NAME, DECISIONS_NAME):
            self._fetch(self.remote(key, name), folder.path / name)
        return folder

    def files(self, key: str) -> set[str]:
        """Every file of the movie's folder on the root, relative to it."""
        top = self.remote(key)
        return {path[len(top) + 1:] for path in self.fs.find(top)}

    # the library --------------------------------------------------------------------------------
    @contextmanager
    def library_writing(self) -> Iterator[OutputRoot]:
        """The library's one writer for the block, on a local root holding every published
        movie's pointer (its snapshot is fetched when read) and the library; the library it
        publishes is written back."""
        with self._locked(f"{LIBRARY}/{LOCK_NAME}", "the library", "the library is being written",
                          LIBRARY_LOCK_WAIT, "the library") as fence, \
                self.scratch.using(self.library_mirror.path):
            root = self._library_mirror(for_build=True)
            yield root
            self._push_library(root, fence)
        self.scratch.trim()

    def library_reading(self) -> OutputRoot:
        """A local root with every movie's published result and the library as published."""
        return self._library_mirror(for_build=False)

    def _library_mirror(self, for_build: bool) -> OutputRoot:
        """The library mirror brought up to date: every movie's pointer, the library's published
        files and decisions. For a reader, every movie's published snapshot too; for the
        library's build, what the library keeps of each movie instead, so that it reads (and
        fetches, when it reads it) only the snapshots of movies published anew."""
        root = self.library_mirror
        published = {p.rstrip("/").split("/")[-2]
                     for p in self.fs.glob(self.remote("*", POINTER_NAME))} - RESERVED
        for folder in root.published_folders():
            if folder.key not in published:
                shutil.rmtree(folder.path)
        for key in sorted(published):
            self._pull_published(key, root.path / key, () if for_build else (SNAPSHOT_NAME,))
        library = root.path / LIBRARY
        self._pull_published(LIBRARY, library, (LIBRARY_DB, MAIN_PAGE, ENTRIES_INDEX, LINKS_NAME)
                             if for_build else (LIBRARY_DB, MAIN_PAGE))
        if for_build:
            self._pull_library_entries(library)
        self._fetch(self.remote(LIBRARY, DECISIONS_NAME), library / DECISIONS_NAME)
        return root

    def _pull_library_entries(self, local: Path) -> None:
        """The published library generation's file per movie (those not copied yet)."""
        generation = Generations(local, local / MAIN_PAGE).current()
        if generation is None:
            return
        remote = self.remote(LIBRARY, GENERATIONS, generation, ENTRIES_FOLDER)
        folder = local / GENERATIONS / generation / ENTRIES_FOLDER
        missing = {path: folder / _name(path) for path in self._find(remote)
                   if not (folder / _name(path)).is_file()}
        if missing:
            folder.mkdir(parents=True, exist_ok=True)
            self.fs.get(list(missing), [str(target) for target in missing.values()])

    def _fetch_into_library_mirror(self, local: Path) -> None:
        self._fetch(self.remote(*local.relative_to(self.library_mirror.path).parts), local)

    # copying down -------------------------------------------------------------------------------
    def _pull(self, key: str, needs: Collection[str]) -> MovieFolder:
        folder = MovieFolder(self.movies_mirror.path / key)
        for suffix in ("-wal", "-shm", "-journal"):  # never mix a new draft with an old journal
            (folder.path / f"{DRAFT_NAME}{suffix}").unlink(missing_ok=True)
        self._fetch(self.remote(key, DRAFT_NAME), folder.draft_path)
        self._fetch(self.remote(key, DECISIONS_NAME), folder.path / DECISIONS_NAME)
        self._pull_published(key, folder.path, (SNAPSHOT_NAME, MAIN_PAGE))
        wanted = MovieDB(folder.draft_path).folders() | _published_folders(folder)
        for relative in sorted(wanted):
            local = folder.path / relative
            if relative.split("/")[0] in needs and not (local / COMPLETE).is_file():
                self._fetch_tree(self.remote(key, relative), local)
        return folder

    def _pull_published(self, key: str, local: Path, names: tuple[str, ...]) -> None:
        """The pointer and these files of the published generation (generations never
        change, so one already here is not fetched again)."""
        self._fetch(self.remote(key, POINTER_NAME), local / POINTER_NAME)
        generation = Generations(local, local / REPORT_NAME).current()
        if generation is None:
            return
        for name in names:
            target = local / GENERATIONS / generation / name
            if not target.is_file():
                self._fetch(self.remote(key, GENERATIONS, generation, name), target)

    def _fetch(self, remote: str, local: Path) -> None:
        """Make `local` a copy of `remote`, or remove it when there is none."""
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(f".{local.name}.part")
        try:
            self.fs.get_file(remote, str(partial))
        except FileNotFoundError:
            partial.unlink(missing_ok=True)
            local.unlink(missing_ok=True)
            return
        os.replace(partial, local)

    def _fetch_tree(self, remote: str, local: Path) -> None:
        files = [f for f in self.fs.find(remote) if not f.endswith(f"/{COMPLETE}")]
        if not self.fs.exists(f"{remote}/{COMPLETE}"):
            raise StoreError(f"{self.url}: {remote} is incomplete; rerun the stage that wrote it")
        partial = local.with_name(f".{local.name}.part")
        shutil.rmtree(partial, ignore_errors=True)
        targets = [str(partial / f[len(remote) + 1:]) for f in files]
        for parent in {Path(t).parent for t in targets}:
            parent.mkdir(parents=True, exist_ok=True)
        if files:
            self.fs.get(files, targets)
        (partial / COMPLETE).touch()
        shutil.rmtree(local, ignore_errors=True)
        os.replace(partial, local)

    # writing back -------------------------------------------------------------------------------
    def _push(self, folder: MovieFolder, fence: Fence) -> None:
        key = folder.key
        db = MovieDB(folder.draft_path)
        generation = folder.published_generation()
        keep = db.folders() | _published_folders(folder)
        uploaded = self._complete_folders(key)
        for relative in sorted(keep - uploaded):
            self._put_tree(folder.path / relative, self.remote(key, relative), fence)
            self.fs.pipe_file(self.remote(key, relative, COMPLETE), b"")
            (folder.path / relative / COMPLETE).touch()  # this copy is whole: no fetch needed
        if generation is not None and generation != self._remote_generation(key):
            self._put_tree(folder.path / GENERATIONS / generation,
                           self.remote(key, GENERATIONS, generation), fence)
            self._put_atomic(folder.path / POINTER_NAME, self.remote(key, POINTER_NAME), fence)
            self._put_atomic(folder.report_path, self.remote(key, REPORT_NAME), fence)
        with tempfile.TemporaryDirectory() as tmp:
            snapshot = Path(tmp) / DRAFT_NAME
            db.snapshot(snapshot)
            self._put_atomic(snapshot, self.remote(key, DRAFT_NAME), fence)
            row = Path(tmp) / MOVIE_JSON
            row.write_text(json.dumps(asdict(db.movie())))
            self._put_atomic(row, self.remote(key, MOVIE_JSON), fence)
        stale = {path: f"{kind}/{_name(path)}" for kind in FILE_KINDS
                 for path in self._list(self.remote(key, kind))
                 if f"{kind}/{_name(path)}" not in keep}
        old = {path: _name(path) for path in self._list(self.remote(key, GENERATIONS))
               if _name(path) != generation}
        if stale or old:  # what the library's pages still point at stays until they move on
            generations, folders = self._library_references(key)
            for path in [*(p for p, f in stale.items() if f not in folders),
                         *(p for p, g in old.items() if g not in generations)]:
                fence.check()
                self.fs.rm(path, recursive=True)

    def _push_library(self, root: OutputRoot, fence: Fence) -> None:
        local = root.path / LIBRARY
        generation = Generations(local, root.path / LIBRARY_PAGE).current()
        if generation is None or generation == self._remote_generation(LIBRARY):
            return
        self._put_tree(local / GENERATIONS / generation,
                       self.remote(LIBRARY, GENERATIONS, generation), fence)
        self._put_atomic(local / POINTER_NAME, self.remote(LIBRARY, POINTER_NAME), fence)
        self._put_atomic(root.path / LIBRARY_PAGE, self.remote(LIBRARY_PAGE), fence)
        self._prune_generations(self.remote(LIBRARY, GENERATIONS), generation, fence)

    def push_tree(self, key: str, relative: str, local: Path) -> None:
        """Replace the movie's folder `relative` (an export) with the files of `local`, while
        this process is the movie's writer (`writing`)."""
        fence = held(self.remote(key, LOCK_NAME))
        if fence is None and not is_local(self.fs):
            raise StoreError(f"{self.url}: {key}/{relative} is written only by the movie's writer")
        remote = self.remote(key, relative)
        if self.fs.exists(remote):
            if fence is not None:
                fence.check()
            self.fs.rm(remote, recursive=True)
        self._put_tree(local, remote, fence)

    def _put_tree(self, local: Path, remote: str, fence: Fence | None) -> None:
        files = sorted(p for p in local.rglob("*") if p.is_file() and p.name != COMPLETE)
        targets = [f"{remote}/{p.relative_to(local).as_posix()}" for p in files]
        if is_local(self.fs):
            for parent in {t.rsplit("/", 1)[0] for t in targets}:
                self.fs.makedirs(parent, exist_ok=True)
        if files:
            if fence is not None:
                fence.check()
            self.fs.put([str(p) for p in files], targets)

    def _put_atomic(self, local: Path, remote: str, fence: Fence) -> None:
        """Readers see the old file or the new one: an object store's PUT is atomic, a
        filesystem's rename is. Only while this worker holds the lock (`fence`)."""
        fence.check()
        if not is_local(self.fs):
            self.fs.put_file(str(local), remote)
            return
        partial = f"{remote}.part-{os.getpid()}"
        self.fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
        self.fs.put_file(str(local), partial)
        os.replace(partial, remote)

    def _remote_generation(self, key: str) -> str | None:
        try:
            return json.loads(self.fs.cat_file(self.remote(key, POINTER_NAME)))["generation"]
        except FileNotFoundError:
            return None

    def _library_references(self, key: str) -> tuple[set[str], set[str]]:
        """The generations and file folders of movie `key` that the published library's pages
        point at (`LibraryDB.references`), read from the root's library, not a local copy that
        may be behind it."""
        generation = self._remote_generation(LIBRARY)
        if generation is None:
            return set(), set()
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / LIBRARY_DB
            try:
                self.fs.get_file(self.remote(LIBRARY, GENERATIONS, generation, LIBRARY_DB),
                                 str(local))
            except FileNotFoundError:
                return set(), set()
            return LibraryDB(local, readonly=True).references(key)

    def _complete_folders(self, key: str) -> set[str]:
        return {f"{kind}/{path.rstrip('/').split('/')[-2]}"
                for kind in FILE_KINDS
                for path in self.fs.glob(self.remote(key, kind, "*", COMPLETE))}

    def _prune_generations(self, remote: str, keep: str | None, fence: Fence) -> None:
        for path in self._list(remote):
            if path.rstrip("/").rsplit("/", 1)[-1] != keep:
                fence.check()
                self.fs.rm(path, recursive=True)

    def _find(self, remote: str) -> list[str]:
        try:
            return self.fs.find(remote)
        except FileNotFoundError:
            return []

    def _list(self, remote: str) -> list[str]:
        try:
            return self.fs.ls(remote, detail=False)
        except FileNotFoundError:
            return []

    @contextmanager
    def _locked(self, relative: str, what: str, busy: str, wait: float,
                subject: str) -> Iterator[Fence]:
        with shared_lock(self.fs, self.remote(relative), what, busy, wait, self.lease_seconds,
                         subject, self.lease_database) as fence:
            yield fence


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _published_folders(folder: MovieFolder) -> set[str]:
    return folder.published().folders() if folder.published_generation() else set()
