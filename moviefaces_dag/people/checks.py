"""The checks every people decision passes before it is recorded, shared by the command line
and the browser editor: the person exists, the faces exist, two people seen in one frame are
not merged, faces do not join a person already in their frame, split faces are the person's.

A decision is checked against a grouping: the movie's published people (`Grouping.published`),
or what the editor shows, the published grouping with the decisions made since applied
(`Grouping.regrouped`). A refused decision raises `RefusedError`, one line saying why.
"""

from __future__ import annotations

from typing import Any

from ..core.words import timecode
from ..store import MovieDB, MovieFolder
from .decision_log import MAX_NAME, DecisionError
from .decisions import Face, Outcome


class RefusedError(DecisionError):
    """A decision that the people as they are now do not allow; the message says why."""


class Grouping:
    """A movie's faces and who each one is: what decisions are checked against."""

    def __init__(self, key: str, faces: list[Face], assignment: dict[int, int | None]):
        self.key = key
        self.faces = {f.id: f for f in faces}
        self.assignment = {f.id: assignment.get(f.id) for f in faces}
        self.people = {p for p in self.assignment.values() if p is not None}

    @classmethod
    def published(cls, folder: MovieFolder, db: MovieDB | None = None) -> Grouping:
        """The movie's published people and faces."""
        db = db or folder.published()
        rows = db.faces()
        faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in rows]
        return cls(folder.key, faces, {f.id: f.person_id for f in rows})

    @classmethod
    def regrouped(cls, key: str, faces: list[Face], outcome: Outcome) -> Grouping:
        """The people after decisions (`movie_people.regroup`)."""
        return cls(key, faces, outcome.assignment)

    def person_of(self, face: int) -> int | None:
        return self.assignment.get(face)

    def person(self, person: int) -> None:
        if person not in self.people:
            known = ", ".join(map(str, sorted(self.people))) or "none"
            raise RefusedError(f"movie {self.key} has no person {person} (people: {known})")

    def frames_of(self, person: int) -> set[int]:
        return {self.faces[f].frame_id for f, p in self.assignment.items() if p == person}

    def face_list(self, ids: list[int]) -> list[Face]:
        unknown = [i for i in ids if i not in self.faces]
        if unknown:
            raise RefusedError(f"movie {self.key} has no face {unknown[0]} "
                               "(face ids are shown in the report)")
        return [self.faces[i] for i in ids]

    def one_per_frame(self, faces: list[Face]) -> None:
        """Faces that become one person's come from different frames."""
        seen: dict[int, int] = {}
        for face in faces:
            if face.frame_id in seen:
                raise RefusedError(f"faces {seen[face.frame_id]} and {face.id} are in one frame "
                                   f"(at {self.when({face.frame_id})}): they are two people")
            seen[face.frame_id] = face.id

    def when(self, frames: set[int]) -> str:
        times = sorted(f.time for f in self.faces.values() if f.frame_id in frames)
        return timecode(times[0]) if times else "?"

    # the checks, one per decision --------------------------------------------------------------
    def check_merge(self, person: int, other: int) -> None:
        if person == other:
            raise RefusedError(f"person {person} cannot be merged with itself")
        self.person(person)
        self.person(other)
        shared = self.frames_of(person) & self.frames_of(other)
        if shared:
            raise RefusedError(f"persons {person} and {other} are both in the frame at "
                               f"{self.when(shared)}: they are two people")

    def check_split(self, person: int | None, ids: list[int]) -> list[Face]:
        """The faces to split off `person` (or from anyone, for None)."""
        if person is not None:
            self.person(person)
        faces = self.face_list(ids)
        if person is not None:
            outside = [f.id for f in faces if self.person_of(f.id) != person]
            if outside:
                raise RefusedError(f"face {outside[0]} is not person {person}'s")
        self.one_per_frame(faces)
        return faces

    def check_assign(self, person: int, ids: list[int]) -> list[Face]:
        """The faces that would join `person` (those not already theirs: maybe none)."""
        self.person(person)
        faces = [f for f in self.face_list(ids) if self.person_of(f.id) != person]
        clash = {f.frame_id for f in faces} & self.frames_of(person)
        if clash:
            raise RefusedError(f"person {person} is already in the frame at "
                               f"{self.when(clash)}: one of these faces is someone else")
        self.one_per_frame(faces)
        return faces

    def check_portrait(self, person: int, face: int) -> Face:
        self.person(person)
        (found,) = self.face_list([face])
        if self.person_of(face) != person:
            raise RefusedError(f"face {face} is not person {person}'s")
        return found


def clean_name(text: str) -> str:
    """A name as recorded: spaces collapsed, 1 to MAX_NAME printable characters."""
    name = " ".join(str(text).split())
    if not name:
        raise RefusedError("a name cannot be empty")
    if len(name) > MAX_NAME or not name.isprintable():
        raise RefusedError(f"a name is at most {MAX_NAME} printable characters")
    return name


def new_person_id(folder: MovieFolder, decisions: list[dict[str, Any]],
                  grouping: Grouping | None = None) -> int:
    """An id no person of the movie ever had, nor any decision gave."""
    taken = [int(d.get("new_person", 0)) for d in decisions]
    present = sorted(grouping.people) if grouping else []
    return max([folder.draft_db().next_person_id(), *(t + 1 for t in taken),
                *(p + 1 for p in present)])
