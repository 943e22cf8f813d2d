"""The library's pages: every movie, the people across movies, and who met whom.

`<output>/index.html` (the library generation's main page) lists the movies and the people seen
in more than one movie (or named), most screen time first; `by-movies.html` the same by number
of movies; a page per such person with their movies and whom they met; `met.html` every pair of
people who shared a shot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..store import OutputRoot
from ..store.library_db import LibraryDB, LibraryPerson

LIBRARY_PEOPLE = 6
# Pages in a library generation's folder (library/g/<generation>/) are three folders down.
LIBRARY_PAGES_BASE = "../../../"


@dataclass(frozen=True)
class LibraryEntry:
    title: str
    href: str
    duration: float
    faces: int
    people_count: int
    people: list[tuple[str, str, str]]  # top people: (best face, their anchor, label) as URLs
    # relative to the root


@dataclass(frozen=True)
class Met:
    other: LibraryPerson
    movies: list[tuple[str, int]]  # (movie, shots together)

    @property
    def shots(self) -> int:
        return sum(n for _, n in self.movies)


@dataclass(frozen=True)
class LibraryView:
    movies: list[LibraryEntry]
    people: list[LibraryPerson]  # those with a page: in several movies, or named
    met: list[tuple[LibraryPerson, LibraryPerson, list[tuple[str, int]]]]
    met_by_person: dict[int, list[Met]]
    pages: str  # URL path of the generation's folder, from the output root

    def page(self, person: LibraryPerson) -> str:
        """Where a person is shown: their library page, or their one movie's page."""
        if person.movies > 1 or person.name:
            return f"{self.pages}/person-{person.id:04d}.html"
        return person.members[0].page


def movie_entries(root: OutputRoot) -> list[LibraryEntry]:
    """Every movie with a published result, in title order, with its top people."""
    entries = []
    for folder in root.published_folders():
        key, db = folder.key, folder.published()
        movie = db.movie()
        faces = {f.id: f for f in db.faces()}
        people = db.people(hidden=False)
        names = db.names()
        prefix = quote(key) + "/"
        entries.append(LibraryEntry(
            title=Path(movie.path).name,
            href=prefix + "index.html",
            duration=float(movie.duration or 0.0),
            faces=len(faces),
            people_count=len(people),
            people=[(prefix + quote(faces[p.best_face_id].thumb_path
                                    or faces[p.best_face_id].crop_path),
                     f"{prefix}index.html#person-{p.person_id}",
                     names.get(p.person_id) or f"Person {p.person_id}")
                    for p in people[:LIBRARY_PEOPLE] if p.best_face_id in faces],
        ))
    return sorted(entries, key=lambda e: e.title.lower())


def build_library_view(db: LibraryDB, root: OutputRoot, pages: str) -> LibraryView:
    people = db.people()
    by_id = {p.id: p for p in people}
    together: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for a, b, movie, shots in db.met():
        together[(a, b)].append((movie, shots))
    met = sorted(((by_id[a], by_id[b], movies) for (a, b), movies in together.items()),
                 key=lambda m: (-sum(n for _, n in m[2]), m[0].id, m[1].id))
    by_person: dict[int, list[Met]] = defaultdict(list)
    for a, b, movies in met:
        by_person[a.id].append(Met(b, movies))
        by_person[b.id].append(Met(a, movies))
    return LibraryView(movies=movie_entries(root),
                       people=[p for p in people if p.movies > 1 or p.name],
                       met=met, met_by_person=dict(by_person), pages=pages)
