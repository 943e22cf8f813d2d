"""People across the library: each movie's people linked to the same people in other movies.

Precision first (a wrong link across movies is worse than a missing one): two people of
different movies, seen by the same recogniser, are one library person only when their good
faces' mean embeddings are close, each is the other's closest person in the other's movie, and
their clearest faces agree too (linking.py: every pair of movies compared exactly). A library
person never holds two people of one movie. The user's library decisions (link, unlink, name)
are applied on top; library ids are kept for the same people from one build to the next.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..media.shots import shot_ids
from ..store import MovieDB, OutputRoot
from ..store.generations import GENERATIONS, Generations
from ..store.library_db import LIBRARY_DB, LIBRARY_FOLDER, LIBRARY_PAGE, LibraryDB, LibraryPerson
from .decisions import Decisions
from .graph import DisjointSets
from .linking import link_people

EXEMPLARS = 5  # a person's clearest faces, compared face to face


@dataclass
class MoviePerson:
    """One person of one movie's published result, as the library sees them."""

    movie: str
    person_id: int
    name: str | None
    model: str
    faces: int
    screen_time: float
    first_seen: float
    last_seen: float
    page: str  # URL path from the output root
    best_face: str | None
    centroid: np.ndarray
    exemplars: np.ndarray
    shots: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.name or f"Person {self.person_id}"

    @property
    def ref(self) -> tuple[str, int]:
        return self.movie, self.person_id


# Names a person's page in their movie's report (the report decides its page names).
PageName = Callable[[int], str]


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def movie_people(key: str, db: MovieDB, generation: str, page_name: PageName
                 ) -> tuple[list[MoviePerson], list[tuple[int, int, int]]]:
    """The movie's people, and who shares how many shots with whom (person, person, shots);
    `page_name` names a person's page in the movie's report."""
    face_ids, matrix, model = db.embeddings()
    row = {fid: n for n, fid in enumerate(face_ids)}
    faces = db.faces()
    frames = db.frames()
    shot = dict(zip((f.id for f in frames),
                    shot_ids(f.cut_distance or 0.0 for f in frames).tolist(), strict=True)) \
        if frames else {}
    rate = float(db.stage_runs()["frames"].stats.get("rate") or 1.0)
    names = db.names()
    by_person: dict[int, list] = defaultdict(list)
    for face in faces:
        if face.person_id is not None and face.id in row:
            by_person[face.person_id].append(face)
    prefix = quote(key) + "/"
    people = []
    for p in db.people(hidden=False):  # the user keeps hidden people out of the library
        group = by_person.get(p.person_id)
        if not group:
            continue
        clearest = sorted(group, key=lambda f: -f.quality)
        vectors = matrix[[row[f.id] for f in clearest]]
        best = next((f for f in group if f.id == p.best_face_id), clearest[0])
        people.append(MoviePerson(
            movie=key, person_id=p.person_id, name=names.get(p.person_id), model=model or "",
            faces=p.face_count, screen_time=len({f.time for f in group}) / rate,
            first_seen=p.first_seen, last_seen=p.last_seen,
            page=f"{prefix}{GENERATIONS}/{quote(generation)}/{page_name(p.person_id)}",
            best_face=prefix + quote(best.thumb_path or best.crop_path),
            centroid=_unit(vectors[:max(EXEMPLARS * 2, 1)].mean(axis=0)),
            exemplars=vectors[:EXEMPLARS],
            shots={shot.get(f.frame_id, 0) for f in group}))
    together: Counter = Counter()
    for a in people:
        for b in people:
            if a.person_id < b.person_id and a.shots & b.shots:
                together[(a.person_id, b.person_id)] = len(a.shots & b.shots)
    return people, [(a, b, n) for (a, b), n in sorted(together.items())]


def group_people(people: list[MoviePerson], decisions: list[dict[str, Any]],
                 links: list[tuple[int, int]] | None = None
                 ) -> tuple[list[list[int]], dict[tuple[str, int], str], list[str]]:
    """Library persons as groups of indices into `people`, with the decisions applied: the
    links the user made or unmade, and the names given (by member, so they follow ids).
    `links`: the links found between them, surest first (default: `link_people`)."""
    index = {p.ref: n for n, p in enumerate(people)}
    unlinked = {(d["movie"], int(d["person"])) for d in decisions if d.get("op") == "unlink"}
    stale: list[str] = []
    forced = []
    for d in decisions:
        if d.get("op") == "link":
            a, b = (d["movie"], int(d["person"])), (d["other_movie"], int(d["other"]))
            if a in index and b in index:
                forced.append((index[a], index[b]))
                unlinked -= {a, b}
            else:
                stale.append(f"link of {a[0]} person {a[1]} and {b[0]} person {b[1]}: "
                             "one of them is no longer found")
    sets = DisjointSets(len(people))
    movies: dict[int, set[str]] = {n: {p.movie} for n, p in enumerate(people)}

    def join(i: int, j: int) -> bool:
        ri, rj = sets.find(i), sets.find(j)
        if ri == rj or movies[ri] & movies[rj]:
            return False
        sets.union(ri, rj)
        movies[sets.find(ri)] = movies.pop(ri, set()) | movies.pop(rj, set())
        return True

    for i, j in forced:
        if not join(i, j):
            stale.append(f"link of {people[i].movie} person {people[i].person_id} and "
                         f"{people[j].movie} person {people[j].person_id}: it would put two "
                         "people of one movie together")
    for i, j in link_people(people) if links is None else links:
        if people[i].ref not in unlinked and people[j].ref not in unlinked:
            join(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for n in range(len(people)):
        groups[sets.find(n)].append(n)
    names = {}
    for d in decisions:
        if d.get("op") == "name":
            ref = (d["movie"], int(d["person"]))
            if ref in index:
                names[ref] = str(d["name"])
            else:
                stale.append(f"name {d['name']!r}: {ref[0]} person {ref[1]} is no longer found")
    return sorted(groups.values(), key=lambda g: min(g)), names, stale


def library_name(members: list[MoviePerson], names: dict[tuple[str, int], str]
                 ) -> tuple[str | None, tuple[str, ...]]:
    """A library person's one name and the other names its members were given (a conflict to
    show, never to drop): a name given in the library first, else the name of the member seen
    longest. `names`: the library decisions' names, by member."""
    given = [names[m.ref] for m in members if m.ref in names]
    in_movies = [m.name for m in sorted(members, key=lambda m: -m.screen_time) if m.name]
    every = list(dict.fromkeys([*given, *in_movies]))  # distinct, in order of precedence
    return (every[0] if every else None), tuple(every[1:])


def keep_library_ids(groups: list[list[tuple[str, int]]],
                     previous: dict[tuple[str, int], int], next_id: int) -> list[int]:
    """A library id per group: the id most of its members had (if most of that id's members
    are here), else a new one."""
    sizes = Counter(previous.values())
    votes = []
    for g, members in enumerate(groups):
        for old, count in Counter(previous[m] for m in members if m in previous).items():
            if count * 2 >= len(members) and count * 2 >= sizes[old]:
                votes.append((count, g, old))
    ids: dict[int, int] = {}
    used: set[int] = set()
    for _count, g, old in sorted(votes, reverse=True):
        if g not in ids and old not in used:
            ids[g], used = old, used | {old}
    for g in range(len(groups)):
        if g not in ids:
            ids[g] = next_id
            next_id += 1
    return [ids[g] for g in range(len(groups))]


def library_path(root: OutputRoot) -> Path:
    return root.path / LIBRARY_FOLDER


def library_decisions(root: OutputRoot) -> Decisions:
    return Decisions(library_path(root), library=True)


def linked_movies(library: LibraryDB | None, movie: str) -> set[str]:
    """The other movies whose people the library holds as the same as one of `movie`'s: their
    pages show names that `movie`'s decisions may change."""
    linked: set[str] = set()
    for person in library.people() if library else []:
        movies = {m.movie for m in person.members}
        if movie in movies:
            linked |= movies
    return linked - {movie}


def link_refusal(library: LibraryDB, a: tuple[str, int], b: tuple[str, int]) -> str | None:
    """Why linking movie person `a` with `b` would do nothing or cannot be (None: it can): they
    are one library person already, or it would put two people of one movie together."""
    person_of = {(m.movie, m.person_id): p for p in library.people() for m in p.members}
    pa, pb = person_of.get(a), person_of.get(b)
    if pa is None or pb is None:
        return None  # the caller names the missing one
    if pa.id == pb.id:
        return f"{a[0]} person {a[1]} and {b[0]} person {b[1]} are one library person already"
    clash = sorted({m.movie for m in pa.members} & {m.movie for m in pb.members})
    if clash:
        mine = [f"{m.movie} person {m.person_id}" for m in pa.members + pb.members
                if m.movie == clash[0]]
        return (f"linking them would put {' and '.join(mine)} together (one movie); unlink "
                "one of them first")
    return None


def published_library(root: OutputRoot) -> LibraryDB | None:
    """The library as last published (None before the first build)."""
    generations = Generations(library_path(root), root.path / LIBRARY_PAGE)
    current = generations.current()
    return LibraryDB(generations.path(current) / LIBRARY_DB, readonly=True) if current else None


def library_ids(root: OutputRoot) -> dict[tuple[str, int], int]:
    """(movie, person id) -> library id, from the published library."""
    library = published_library(root)
    return {(m.movie, m.person_id): p.id for p in (library.people() if library else [])
            for m in p.members}


def library_names(root: OutputRoot) -> dict[tuple[str, int], str]:
    """(movie, person id) -> the name a movie's person takes from the library: the name given
    to its library person, else one given in another movie (never the movie's own, so taking
    a name back in a movie takes it back there)."""
    library = published_library(root)
    return names_from_library(library.people() if library else [])


def names_from_library(people: list[LibraryPerson]) -> dict[tuple[str, int], str]:
    """What `library_names` reads, from these library people."""
    names = {}
    for person in people:
        own = {(m.movie, m.person_id): m.label for m in person.members
               if m.label != f"Person {m.person_id}"}  # named in its movie
        given = person.name if person.name and person.name not in own.values() else None
        for member in person.members:
            others = [name for (movie, _), name in own.items() if movie != member.movie]
            name = given or (others[0] if others else None)
            if name:
                names[(member.movie, member.person_id)] = name
    return names
