"""The library's pages: every movie, the people across movies, and who met whom.

`<output>/index.html` (the library generation's main page) lists the movies and the people seen
in more than one movie (or named), most screen time first; `by-movies.html` the same by number
of movies; a page per such person with their movies and whom they met; `met.html` every pair of
people who shared a shot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..store import MovieDB, OutputRoot
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
    hrefs: dict[tuple[int, str], str] = field(default_factory=dict)  # href's, as found

    def page(self, person: LibraryPerson) -> str:
        """Where a person is shown: their library page, or their one movie's page."""
        if has_page(person):
            return f"{self.pages}/{person_page(person)}"
        return person.members[0].page

    def href(self, person: LibraryPerson, base: str) -> str:
        """The link to where a person is shown, from a page at `base`: pages in the
        generation's folder link to each other without naming it (so an unchanged page stays
        the same file from one generation to the next)."""
        found = self.hrefs.get((person.id, base))
        if found is None:
            found = person_page(person) if base == LIBRARY_PAGES_BASE and has_page(person) \
                else base + self.page(person)
            self.hrefs[(person.id, base)] = found
        return found

    def link(self, name: str, base: str) -> str:
        """The link to the generation's page `name` from a page at `base`."""
        return name if base == LIBRARY_PAGES_BASE else f"{base}{self.pages}/{name}"


def has_page(person: LibraryPerson) -> bool:
    return person.movies > 1 or bool(person.name)


def person_page(person: LibraryPerson) -> str:
    return f"person-{person.id:04d}.html"


def movie_entry(key: str, db: MovieDB) -> LibraryEntry:
    """A movie's card: its facts and top people, from its published result `db`."""
    movie = db.movie()
    faces = {f.id: f for f in db.faces()}
    people = db.people(hidden=False)
    names = db.names()
    prefix = quote(key) + "/"
    return LibraryEntry(
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
    )


def movie_card(key: str, db: MovieDB) -> dict[str, Any]:
    """`movie_entry` as JSON-ready data, for the library to keep."""
    return asdict(movie_entry(key, db))


def card_entry(card: dict[str, Any]) -> LibraryEntry:
    """The card kept by `movie_card`, as an entry again."""
    return LibraryEntry(**{**card, "people": [tuple(p) for p in card["people"]]})


def movie_entries(root: OutputRoot) -> list[LibraryEntry]:
    """Every movie with a published result, in title order, with its top people."""
    return sorted((movie_entry(folder.key, folder.published())
                   for folder in root.published_folders()), key=lambda e: e.title.lower())


def build_library_view(db: LibraryDB, root: OutputRoot, pages: str,
                       entries: list[LibraryEntry] | None = None) -> LibraryView:
    """The library's pages' content; `entries`: the movies' entries when the caller has them
    (else read from every published movie)."""
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
    return LibraryView(movies=movie_entries(root) if entries is None
                       else sorted(entries, key=lambda e: e.title.lower()),
                       people=[p for p in people if has_page(p)],
                       met=met, met_by_person=dict(by_person), pages=pages)
