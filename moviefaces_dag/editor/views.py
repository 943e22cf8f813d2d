"""What the editor's pages show: a movie's people as they are after every decision made so far
(`regroup` on the published grouping: no clustering, no models), the library, the history."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.words import plural
from ..people.checks import Grouping
from ..people.decision_log import replay
from ..people.decisions import Decisions, rejected_places
from ..people.library import library_decisions, published_library
from ..people.movie_people import regroup
from ..store import FaceRow, MovieDB, OutputRoot, StoreError
from ..store.library_db import LibraryPerson

FILES = "/files/"  # the route that serves the output folder's images
ATTEMPTS = 3  # reads racing a publish that prunes the generation they opened


def file_url(path: str) -> str:
    """The editor's address of a file, given its path from the output folder."""
    return FILES + quote(path)


@dataclass(frozen=True)
class FaceView:
    id: int
    src: str
    time: float
    person: int | None


@dataclass
class PersonCard:
    id: int
    name: str | None
    faces: list[FaceView]  # in time order
    portrait: FaceView
    hidden: bool

    @property
    def label(self) -> str:
        return self.name or f"Person {self.id}"


@dataclass
class MovieState:
    """A movie's people after the decisions in force."""

    key: str
    title: str
    people: list[PersonCard]  # shown, most faces first
    hidden: list[PersonCard]
    unassigned: list[FaceView]
    stale: list[str]
    grouping: Grouping
    decisions: Decisions
    faces: dict[int, FaceRow] = field(default_factory=dict)

    def person(self, person_id: int) -> PersonCard | None:
        return next((p for p in [*self.people, *self.hidden] if p.id == person_id), None)


def movie_state(root: OutputRoot, key: str) -> MovieState:
    """The movie's people now: its published grouping with the decisions made since applied."""
    for attempt in range(ATTEMPTS):
        try:
            return _movie_state(root, key)
        except StoreError:  # a new generation published (and the old one pruned) meanwhile
            if attempt == ATTEMPTS - 1 or root.folder(key).published_generation() is None:
                raise
    raise AssertionError("unreachable")


class Snapshot:
    """What the editor reads of a published snapshot, read once: a generation never changes.
    It answers what `regroup` asks of a store (faces, membership)."""

    def __init__(self, db: MovieDB):
        self.rows = db.faces()
        self._membership = db.membership()
        self.title = Path(db.movie().path).name

    def faces(self) -> list[FaceRow]:
        return self.rows

    def membership(self) -> list[tuple[int, float, tuple[float, float, float, float]]]:
        return self._membership


_SNAPSHOTS: dict[Path, Snapshot] = {}
_SNAPSHOTS_LOCK = threading.Lock()
KEPT_SNAPSHOTS = 16


def snapshot(db: MovieDB) -> Snapshot:
    with _SNAPSHOTS_LOCK:
        found = _SNAPSHOTS.get(db.db_path)
    if found is None:
        found = Snapshot(db)
        with _SNAPSHOTS_LOCK:
            while len(_SNAPSHOTS) >= KEPT_SNAPSHOTS:
                del _SNAPSHOTS[next(iter(_SNAPSHOTS))]
            _SNAPSHOTS[db.db_path] = found
    return found


def _movie_state(root: OutputRoot, key: str) -> MovieState:
    folder = root.folder(key)
    db = snapshot(folder.published())
    rows = {f.id: f for f in db.faces()}
    decisions = Decisions(folder.path)
    in_force = decisions.load()
    faces, outcome = regroup(db, in_force)
    rejected = rejected_places(in_force, faces)  # no faces: on no page
    prefix = f"{key}/"

    def view(face_id: int) -> FaceView:
        row = rows[face_id]
        return FaceView(face_id, file_url(prefix + (row.thumb_path or row.crop_path)),
                        float(row.time or 0.0), outcome.assignment.get(face_id))

    members: dict[int, list[int]] = defaultdict(list)
    unassigned = []
    for face in sorted(faces, key=lambda f: (f.time, f.id)):
        person = outcome.assignment.get(face.id)
        if person is None:
            if face.id not in rejected:
                unassigned.append(view(face.id))
        else:
            members[person].append(face.id)
    cards = []
    for person, ids in members.items():
        portrait = outcome.portraits.get(person) or max(ids, key=lambda f: rows[f].quality)
        cards.append(PersonCard(person, outcome.names.get(person), [view(f) for f in ids],
                                view(portrait), person in outcome.hidden))
    cards.sort(key=lambda c: (-len(c.faces), c.faces[0].time, c.id))
    return MovieState(
        key=key, title=db.title,
        people=[c for c in cards if not c.hidden], hidden=[c for c in cards if c.hidden],
        unassigned=unassigned, stale=outcome.stale,
        grouping=Grouping.regrouped(key, faces, outcome), decisions=decisions, faces=rows)


@dataclass(frozen=True)
class HistoryLine:
    id: int
    what: str
    at: str
    state: str  # applied, undone, withdrawn; "" for undo, redo and withdraw steps


def history(decisions: Decisions, describe: Any) -> list[HistoryLine]:
    """Every entry of a decisions file, newest first, with its state."""
    entries = decisions.entries()
    state = replay(entries).state
    return [HistoryLine(e["id"], describe(e), e.get("at", ""), state.get(e["id"], ""))
            for e in reversed(entries)]


def describe_library(decision: dict[str, Any]) -> str:
    op = decision["op"]
    if op == "name":
        return (f"{decision['movie']} person {decision['person']} is named "
                f"{decision['name']!r} in the library")
    if op == "link":
        return (f"{decision['movie']} person {decision['person']} and {decision['other_movie']} "
                f"person {decision['other']} are one person")
    if op == "unlink":
        return f"{decision['movie']} person {decision['person']} is nobody else"
    return f"{op} of decision {decision['decision']}"


@dataclass(frozen=True)
class MovieSummary:
    key: str
    title: str
    people: int
    faces: int

    @property
    def text(self) -> str:
        return f"{plural(self.people, 'person', 'people')}, {plural(self.faces, 'face')}"


def library_people(root: OutputRoot) -> list[LibraryPerson]:
    for attempt in range(ATTEMPTS):
        try:
            library = published_library(root)
            return library.people() if library else []
        except StoreError:  # published again meanwhile
            if attempt == ATTEMPTS - 1:
                raise
    return []


def movie_summaries(root: OutputRoot) -> list[MovieSummary]:
    out = []
    for folder in root.published_folders():
        for attempt in range(ATTEMPTS):
            try:
                db = folder.published()
                db.faces()
                break
            except StoreError:  # published again meanwhile
                if attempt == ATTEMPTS - 1:
                    raise
        out.append(MovieSummary(folder.key, Path(db.movie().path).name, len(db.people()),
                                len(db.faces())))
    return out


def names_in_use(root: OutputRoot) -> list[str]:
    """Every name given anywhere: in each movie's decisions and the library's."""
    names = set()
    for folder in root.published_folders():
        names |= {d["name"] for d in Decisions(folder.path).load() if d["op"] == "name"}
    names |= {d["name"] for d in library_decisions(root).load() if d["op"] == "name"}
    names |= {p.name for p in library_people(root) if p.name}
    return sorted(names, key=str.casefold)
