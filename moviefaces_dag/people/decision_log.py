"""The decisions file's form, checked on every read and before every write, and its history:
which decisions are in force after undo, redo and withdrawals.

A file is `{"version": 2, "decisions": [...]}`; each entry has an `id` (its place in the
history, from 1), an `op` and that operation's fields. Version 1 files (no ids) are read as
if each entry's id were its position. `undo` takes back the last step still in force, `redo`
puts back the last one undone, `withdraw` takes back any one decision (from the history page),
and undo/redo apply to withdrawals too, as to any other step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

VERSION = 2
MAX_NAME = 200


class DecisionError(ValueError):
    """A decision that cannot be taken, or a decisions file that cannot be read; the message
    says why, in one line."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int | None = Field(None, ge=1)
    at: str | None = None


class _Place(BaseModel):
    """A face by place: the time of its frame and its box (x, y, width, height)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    time: float = Field(ge=0)
    box: tuple[float, float, float, float]


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=r"^[^\x00-\x1f\x7f]*$")]
Person = Annotated[int, Field(ge=1)]
Places = Annotated[list[_Place], Field(min_length=1)]


class NameOp(_Entry):
    op: Literal["name"]
    person: Person
    name: Name


class MergeOp(_Entry):
    """`other` joins `person`; `faces` and `other_faces`, where given, are the faces of each
    the user judged one person (the review queue's): a must-link for every later grouping."""

    op: Literal["merge"]
    person: Person
    other: Person
    faces: list[_Place] | None = None
    other_faces: list[_Place] | None = None


class SplitOp(_Entry):
    """Faces that become a person of their own (from one person, or from anywhere)."""

    op: Literal["split"]
    person: Person | None = None
    new_person: Person
    faces: Places


class AssignOp(_Entry):
    """`faces` become `person`'s; `person_faces`, where given, are the person's faces they
    were compared with (the review queue's): with `faces`, a must-link for later groupings."""

    op: Literal["assign"]
    person: Person
    faces: Places
    person_faces: list[_Place] | None = None


class RejectOp(_Entry):
    op: Literal["reject"]
    faces: Places


class ApartOp(_Entry):
    """Two people who are not one person (a cannot-link): the faces of each, by place. Should a
    later grouping put faces of both sides into one person, `other`'s side becomes
    `new_person`; no question asks about the two again. A person apart from itself (`person`
    = `other`) is several people: its sides stay `person` and `new_person` whatever a later
    grouping does with them (the first side keeps `person` where no other group has it)."""

    op: Literal["apart"]
    person: Person
    other: Person
    new_person: Person
    faces: Places
    other_faces: Places


class HideOp(_Entry):
    op: Literal["hide"]
    person: Person


class PortraitOp(_Entry):
    op: Literal["portrait"]
    person: Person
    face: _Place


class LinkOp(_Entry):
    op: Literal["link"]
    movie: str = Field(min_length=1)
    person: Person
    other_movie: str = Field(min_length=1)
    other: Person


class UnlinkOp(_Entry):
    op: Literal["unlink"]
    movie: str = Field(min_length=1)
    person: Person


class LibraryNameOp(_Entry):
    op: Literal["name"]
    movie: str = Field(min_length=1)
    person: Person
    name: Name


class StepOp(_Entry):
    """undo / redo / withdraw: `decision` is the id of the step it acts on."""

    op: Literal["undo", "redo", "withdraw"]
    decision: int = Field(ge=1)


MOVIE_OPS = ("name", "merge", "split", "assign", "reject", "hide", "portrait", "apart")
LIBRARY_OPS = ("name", "link", "unlink")
STEP_OPS = ("undo", "redo", "withdraw")

_MOVIE = TypeAdapter(Annotated[NameOp | MergeOp | SplitOp | AssignOp | RejectOp | HideOp
                               | PortraitOp | ApartOp | StepOp, Field(discriminator="op")])
_LIBRARY = TypeAdapter(Annotated[LibraryNameOp | LinkOp | UnlinkOp | StepOp,
                                 Field(discriminator="op")])


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(map(str, first["loc"][1:]))  # after the operation's tag
    return f"{where + ': ' if where else ''}{first['msg']}"


def check_entry(entry: Any, library: bool) -> dict[str, Any]:
    """The entry as stored (unset fields dropped), or DecisionError saying what is wrong."""
    if not isinstance(entry, dict):
        raise DecisionError(f"an entry must be an object, not {type(entry).__name__}")
    op = entry.get("op")
    allowed = (*(LIBRARY_OPS if library else MOVIE_OPS), *STEP_OPS)
    if op not in allowed:
        raise DecisionError(f"unknown op {op!r} (one of {', '.join(allowed)})")
    try:
        model = (_LIBRARY if library else _MOVIE).validate_python(entry)
    except ValidationError as exc:
        raise DecisionError(_problem(exc)) from None
    return model.model_dump(mode="json", exclude_none=True)


def read_entries(path: Path, data: Any, library: bool) -> list[dict[str, Any]]:
    """The file's entries, each checked and with its id; DecisionError naming the file and
    the entry otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("decisions"), list):
        raise DecisionError(f"{path} is damaged (expected an object with a list of decisions); "
                            "fix it or move it away")
    version = data.get("version", 1)
    if version not in (1, VERSION):
        raise DecisionError(f"{path} has version {version!r}, which this moviefaces cannot "
                            f"read (it reads 1 and {VERSION})")
    entries = []
    for n, raw in enumerate(data["decisions"], start=1):
        try:
            entry = check_entry(raw, library)
        except DecisionError as exc:
            raise DecisionError(f"{path}: decision {n}: {exc}; fix it or move the file away"
                                ) from None
        entry.setdefault("id", n)
        if entry["id"] != n:
            raise DecisionError(f"{path}: decision {n} has id {entry['id']}; fix it or move the "
                                "file away")
        entries.append(entry)
    try:
        replay(entries)
    except DecisionError as exc:
        raise DecisionError(f"{path}: {exc}; fix it or move the file away") from None
    return entries


@dataclass
class History:
    """The steps in force (`done`, oldest first), those undone (`undone`, newest last), and
    each decision's state: applied, withdrawn or undone."""

    done: list[int] = field(default_factory=list)
    undone: list[int] = field(default_factory=list)
    state: dict[int, str] = field(default_factory=dict)


def replay(entries: list[dict[str, Any]]) -> History:
    """Play the history: DecisionError at the first step that cannot have been made."""
    history, by_id = History(), {e["id"]: e for e in entries}
    for entry in entries:
        op, target = entry["op"], entry.get("decision")
        if op == "undo":
            if not history.done or history.done[-1] != target:
                raise DecisionError(f"decision {entry['id']} undoes {target}, which is not the "
                                    "last step in force")
            history.undone.append(history.done.pop())
        elif op == "redo":
            if not history.undone or history.undone[-1] != target:
                raise DecisionError(f"decision {entry['id']} redoes {target}, which is not the "
                                    "last step undone")
            history.done.append(history.undone.pop())
        else:
            if op == "withdraw" and (target not in by_id or target not in history.done
                                     or by_id[target]["op"] in STEP_OPS
                                     or target in _withdrawn(history, by_id)):
                raise DecisionError(f"decision {entry['id']} withdraws {target}, which is not "
                                    "a decision in force")
            history.done.append(entry["id"])
            history.undone.clear()
    in_force, withdrawn = set(history.done), _withdrawn(history, by_id)
    for entry in entries:
        if entry["op"] in STEP_OPS:
            continue
        i = entry["id"]
        history.state[i] = ("withdrawn" if i in withdrawn else "applied" if i in in_force
                            else "undone")
    return history


def _withdrawn(history: History, by_id: dict[int, dict[str, Any]]) -> set[int]:
    return {by_id[i]["decision"] for i in history.done if by_id[i]["op"] == "withdraw"}


def in_force(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decisions that apply, in the order they were made."""
    state = replay(entries).state
    return [e for e in entries if state.get(e["id"]) == "applied"]
