"""The library's store: people across movies, and who met whom. Written whole by the library
asset into each published generation; read-only afterwards."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .schema import database_error

LIBRARY_DB = "library.sqlite"
LIBRARY_PAGE = "index.html"  # at the output root
LIBRARY_FOLDER = "library"  # at the output root: decisions and published generations
# What a library generation keeps of each movie, so the next build reads only movies published
# anew (people/library_movies.py): an index, a file per movie, the links between movies.
ENTRIES_INDEX = "movies.json"
ENTRIES_FOLDER = "movies"
LINKS_NAME = "links.npz"
LIBRARY_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY,
    name TEXT,
    model TEXT NOT NULL,
    faces INTEGER NOT NULL,
    screen_time REAL NOT NULL,
    movies INTEGER NOT NULL,
    best_face TEXT,
    other_names TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS members (
    library_id INTEGER NOT NULL REFERENCES people(id),
    movie TEXT NOT NULL,
    person_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    faces INTEGER NOT NULL,
    screen_time REAL NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    page TEXT NOT NULL,
    best_face TEXT,
    PRIMARY KEY (movie, person_id)
);
CREATE TABLE IF NOT EXISTS met (
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    movie TEXT NOT NULL,
    shots INTEGER NOT NULL,
    PRIMARY KEY (a, b, movie)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Member:
    """One movie's person as part of a library person."""

    movie: str
    person_id: int
    label: str
    faces: int
    screen_time: float
    first_seen: float
    last_seen: float
    page: str  # URL path of the person's page in that movie's report, from the output root
    best_face: str | None  # URL path from the output root


@dataclass(frozen=True)
class LibraryPerson:
    id: int
    name: str | None
    model: str
    faces: int
    screen_time: float
    movies: int
    best_face: str | None
    members: tuple[Member, ...] = ()
    # Other names its members were given: a conflict for the user to resolve (naming the
    # library person gives every member the one name).
    other_names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or f"Library person {self.id}"


class LibraryDB:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            with self._connection() as conn:
                conn.executescript(LIBRARY_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.readonly:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1",
                                       uri=True)
            else:
                conn = sqlite3.connect(self.path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            try:
                yield conn
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise database_error(self.path, exc) from exc

    def write(self, people: list[LibraryPerson], met: list[tuple[int, int, str, int]],
              next_id: int) -> None:
        with self._connection() as conn:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO people (id, name, model, faces, screen_time, movies, best_face, "
                "other_names) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ((p.id, p.name, p.model, p.faces, p.screen_time, p.movies, p.best_face,
                  json.dumps(list(p.other_names), ensure_ascii=False)) for p in people))
            conn.executemany(
                "INSERT INTO members (library_id, movie, person_id, label, faces, screen_time, "
                "first_seen, last_seen, page, best_face) VALUES (?,?,?,?,?,?,?,?,?,?)",
                ((p.id, m.movie, m.person_id, m.label, m.faces, m.screen_time, m.first_seen,
                  m.last_seen, m.page, m.best_face) for p in people for m in p.members))
            conn.executemany("INSERT INTO met (a, b, movie, shots) VALUES (?, ?, ?, ?)", met)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_id', ?)",
                         (next_id,))
            conn.execute("COMMIT")

    def people(self) -> list[LibraryPerson]:
        """Every library person with their members, most screen time first."""
        with self._connection() as conn:
            members: dict[int, list[Member]] = {}
            for r in conn.execute("SELECT * FROM members ORDER BY movie, person_id"):
                members.setdefault(r["library_id"], []).append(Member(
                    r["movie"], r["person_id"], r["label"], r["faces"], r["screen_time"],
                    r["first_seen"], r["last_seen"], r["page"], r["best_face"]))
            return [LibraryPerson(r["id"], r["name"], r["model"], r["faces"], r["screen_time"],
                                  r["movies"], r["best_face"], tuple(members.get(r["id"], ())),
                                  tuple(json.loads(dict(r).get("other_names") or "[]")))
                    for r in conn.execute(
                        "SELECT * FROM people ORDER BY screen_time DESC, id")]

    def met(self) -> list[tuple[int, int, str, int]]:
        """(library person, library person, movie, shots together), most shots first."""
        with self._connection() as conn:
            return [tuple(r) for r in conn.execute(
                "SELECT a, b, movie, shots FROM met ORDER BY shots DESC, a, b, movie")]

    def references(self, movie: str) -> tuple[set[str], set[str]]:
        """What the library's pages point at in `movie`'s folder: its generations and its
        file version folders (`faces/<version>`), which that movie must keep."""
        with self._connection() as conn:
            rows = conn.execute("SELECT page, best_face FROM members WHERE movie = ?",
                                (movie,)).fetchall()
        generations, folders = set(), set()
        for page, best in rows:
            parts = [unquote(part) for part in page.split("/")]
            if len(parts) > 2:
                generations.add(parts[2])  # <movie>/g/<generation>/<page>
            parts = [unquote(part) for part in (best or "").split("/")]
            if len(parts) > 2:
                folders.add(f"{parts[1]}/{parts[2]}")  # <movie>/<kind>/<version>/<file>
        return generations, folders

    def every_reference(self) -> dict[str, set[tuple[str, str | None]]]:
        """What the library's pages point at, by movie: its members' (page, best face), from
        which `references` derives (equal ones make equal references)."""
        found: dict[str, set[tuple[str, str | None]]] = {}
        with self._connection() as conn:
            for movie, page, best in conn.execute("SELECT movie, page, best_face FROM members"):
                found.setdefault(movie, set()).add((page, best))
        return found

    def next_id(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        return row[0] if row else 1
