"""The output root: one folder per movie, each with its own store, plus the tool's own files.

A movie is registered when its folder holds a working store naming the movie file. Keys are
the file's name, readable in any script, never one of the tool's own names at the root.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..media.sources import is_path, normalized
from ..media.video import fingerprint_file
from .folder import DRAFT_NAME, Fetch, MovieFolder
from .generations import POINTER_NAME
from .movie_db import MovieDB
from .rows import MovieRow
from .schema import StoreError

MAX_KEY_LENGTH = 80
# Names at the output root that belong to the tool, never to a movie (compared case-folded:
# some filesystems ignore case).
RESERVED = {"dagster_home", "index.html", "library", "library.sqlite", "moviefaces.sqlite",
            "moviefaces.sqlite.migrated"}
REGISTER_LOCK = ".register.lock"


def movie_key(name: str) -> str:
    """A partition key and folder name from a file name: letters and digits of any script, case
    kept; other characters (spaces, punctuation, controls) become '-'."""
    text = unicodedata.normalize("NFC", name)
    kept = "".join(c if c in "-_." or unicodedata.category(c)[0] in "LNM" else "-" for c in text)
    key = re.sub(r"-{2,}", "-", kept).strip("-_.")[:MAX_KEY_LENGTH].strip("-_.")
    key = key.replace("...", "-")  # Dagster reserves '...' for partition ranges
    if not key:
        return "movie"
    return f"{key}-movie" if key.casefold() in RESERVED else key


class OutputRoot:
    """The output folder: which movies it holds, and registering new ones."""

    def __init__(self, path: Path | str, fetch: Fetch | None = None):
        self.path = Path(path).absolute()
        self.fetch = fetch  # a shared root's local copy: fetches a file read but not here

    def folder(self, key: str) -> MovieFolder:
        """The folder of a registered movie (StoreError naming the key if there is none)."""
        folder = MovieFolder(self.path / key, self.fetch)
        if "/" in key or key.startswith(".") or not folder.exists():
            raise StoreError(f"movie {key!r} is not registered in {self.path}; "
                             "run `moviefaces add MOVIE` first")
        return folder

    def registered_keys(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if (p / DRAFT_NAME).is_file())

    def published_folders(self) -> list[MovieFolder]:
        """The folders of movies with a published result, by key (a shared root's local copy
        holds only what readers need: the published result, no draft)."""
        if not self.path.is_dir():
            return []
        return [MovieFolder(p, self.fetch) for p in sorted(self.path.iterdir())
                if (p / POINTER_NAME).is_file() and p.name.casefold() not in RESERVED]

    def movies(self) -> dict[str, MovieRow]:
        """Every registered movie's row, by key."""
        return {key: MovieDB(self.path / key / DRAFT_NAME).movie()
                for key in self.registered_keys()}

    def find(self, movie: str) -> MovieFolder | None:
        """The folder of `movie`, given as its key or its file, read without writing: a
        published movie is found by its published row when its draft is damaged."""
        resolved = str(Path(movie).resolve())
        for key in self.registered_keys():
            folder = MovieFolder(self.path / key)
            try:
                row = folder.draft_db().movie()
            except StoreError:
                if folder.published_generation() is None:
                    raise
                row = folder.published().movie()
            if row.path == resolved:
                return folder
        folder = MovieFolder(self.path / movie)
        if "/" not in movie and not movie.startswith(".") and folder.exists():
            return folder
        return None

    @contextmanager
    def registering(self) -> Iterator[None]:
        """Registration (and upgrading) is quick and rare: one at a time per output root, waiting
        for its turn."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / REGISTER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def register(self, movie: Path | str, hash_moves: bool = True) -> str:
        """The key of `movie` (a path, or a location of media/sources.py): its own if
        registered, also when a file was moved here (same size and modification time as a
        registered movie whose file is gone, or with `hash_moves` the same content), else a
        new one."""
        resolved = normalized(movie)
        path = is_path(resolved)
        with self.registering():
            movies = self.movies()
            for key, row in movies.items():
                if row.path == resolved:
                    return key
            key = self._moved(Path(resolved), movies, hash_moves) if path else None
            if key is None:
                key = self._new_key(Path(resolved.split("://", 1)[-1]), movies)
            with MovieFolder(self.path / key).writing("registering the movie") as draft:
                draft.db.set_movie(key, resolved)
            return key

    def _moved(self, movie: Path, movies: dict[str, MovieRow], hash_moves: bool) -> str | None:
        stat = movie.stat()
        gone = [key for key, row in movies.items()
                if row.size == stat.st_size and row.fingerprint
                and Path(row.path).is_absolute() and not Path(row.path).exists()]
        same_time = [key for key in gone if movies[key].mtime_ns == stat.st_mtime_ns]
        if same_time or not gone or not hash_moves:
            # A rename keeps the time; the movie's next refresh checks the content.
            return same_time[0] if same_time else None
        fingerprint = fingerprint_file(movie)
        return next((key for key in gone if movies[key].fingerprint == fingerprint), None)

    def _new_key(self, movie: Path, movies: dict[str, MovieRow]) -> str:
        return new_key(movie, set(movies) | {p.name for p in self.path.iterdir()})


def new_key(movie: Path, taken: set[str]) -> str:
    """A key for a movie not registered yet, unlike every name in `taken` (case-folded)."""
    base = movie_key(movie.stem)
    if base.casefold() not in {name.casefold() for name in taken}:
        return base
    return f"{base}-{hashlib.sha1(str(movie).encode()).hexdigest()[:8]}"
