"""What the user decided about a movie's people: names, merges, splits, faces assigned by hand,
detections that are not faces, people hidden and portraits chosen.

Decisions live apart from computed data, in `<movie>/decisions.json`, which no stage ever
writes: each clustering reads the ones in force (decision_log.py: undo, redo, withdraw) and
applies them, in the order they were made, to its result. Faces are referred to by place (frame
time and box), so a decision outlives a rerun of detection; one that no longer finds its face or
person is kept and reported as stale, never dropped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.boxes import Box, iou
from ..store.files import DECISIONS_NAME, write_atomic
from .decision_log import VERSION, DecisionError, check_entry, in_force, read_entries, replay


@dataclass(frozen=True)
class FaceRef:
    time: float
    box: Box

    def to_json(self) -> dict[str, Any]:
        return {"time": round(self.time, 3), "box": [round(v, 1) for v in self.box]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaceRef:
        return cls(float(data["time"]), tuple(float(v) for v in data["box"]))


@dataclass
class Outcome:
    """People after the decisions: face id -> person id (None: nobody), names, and the
    decisions that found nothing to apply to."""

    assignment: dict[int, int | None]
    names: dict[int, str] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)
    portraits: dict[int, int] = field(default_factory=dict)  # person id -> face id
    # "apart" decisions: the face ids of each side (two people who are not one person)
    apart: list[tuple[frozenset[int], frozenset[int]]] = field(default_factory=list)


@dataclass(frozen=True)
class Face:
    """What applying decisions needs of a face."""

    id: int
    frame_id: int
    time: float
    box: Box


class Decisions:
    """The decisions file of one movie (or of the library: the same format, other operations)."""

    def __init__(self, folder: Path, name: str = DECISIONS_NAME, library: bool = False):
        self.path = Path(folder) / name
        self.lock_path = Path(folder) / f".{name}.lock"
        self.library = library

    def entries(self) -> list[dict[str, Any]]:
        """The whole history, checked (DecisionError naming the file and entry otherwise)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DecisionError(f"{self.path} cannot be read ({exc.strerror or exc})") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DecisionError(f"{self.path} is damaged ({exc}); fix it or move it away"
                                ) from None
        return read_entries(self.path, data, self.library)

    def load(self) -> list[dict[str, Any]]:
        """The decisions in force, in the order they were made."""
        return in_force(self.entries())

    def digest(self) -> str:
        """Identity of the decisions in force: a Dagster data version."""
        canonical = json.dumps(self.load(), sort_keys=True).encode()
        return hashlib.sha1(canonical).hexdigest()[:16]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def add(self, decision: dict[str, Any],
            check: Callable[[list[dict[str, Any]]], None] = lambda _d: None) -> dict[str, Any]:
        """Record `decision` after `check` (given the decisions in force) accepts it: one at a
        time, and the file is replaced in one step, so two decisions at once both count. A
        damaged file, or a decision of the wrong form, records nothing."""
        with self._locked():
            entries = self.entries()
            check(in_force(entries))
            return self._append(entries, decision)

    def undo(self) -> dict[str, Any]:
        """Take back the last step in force; return the step taken back."""
        with self._locked():
            entries = self.entries()
            done = replay(entries).done
            if not done:
                raise DecisionError("there is nothing to undo")
            self._append(entries, {"op": "undo", "decision": done[-1]})
            return entries[done[-1] - 1]

    def redo(self) -> dict[str, Any]:
        """Put back the last step undone; return it."""
        with self._locked():
            entries = self.entries()
            undone = replay(entries).undone
            if not undone:
                raise DecisionError("there is nothing to redo")
            self._append(entries, {"op": "redo", "decision": undone[-1]})
            return entries[undone[-1] - 1]

    def withdraw(self, decision_id: int) -> dict[str, Any]:
        """Take back decision `decision_id` (one in force); return it."""
        with self._locked():
            entries = self.entries()
            if replay(entries).state.get(decision_id) != "applied":
                raise DecisionError(f"decision {decision_id} is not in force in {self.path}")
            self._append(entries, {"op": "withdraw", "decision": decision_id})
            return entries[decision_id - 1]

    def _append(self, entries: list[dict[str, Any]], decision: dict[str, Any]
                ) -> dict[str, Any]:
        try:
            entry = check_entry({**decision, "id": len(entries) + 1,
                                 "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, self.library)
        except DecisionError as exc:
            raise DecisionError(f"not recorded: {exc}") from None
        entries = [*entries, entry]
        replay(entries)  # a step that cannot be made raises here, before anything is written
        write_atomic(self.path, json.dumps({"version": VERSION, "decisions": entries},
                                           indent=1, ensure_ascii=False) + "\n")
        return entry


def refs(faces: list[Face]) -> list[dict[str, Any]]:
    return [FaceRef(f.time, f.box).to_json() for f in faces]


def by_time(faces: list[Face]) -> dict[float, list[Face]]:
    """The faces by frame time: what finding faces by place looks up."""
    index: dict[float, list[Face]] = {}
    for face in faces:
        index.setdefault(round(face.time, 3), []).append(face)
    return index


def _find(faces: list[Face], data: list[dict[str, Any]],
          index: dict[float, list[Face]] | None = None) -> tuple[list[Face], int]:
    """The faces at the places `data` names, and how many places found no face (`index`:
    `by_time(faces)`, made once for many look-ups)."""
    by_time_ = by_time(faces) if index is None else index
    found, lost = [], 0
    for ref in map(FaceRef.from_json, data):
        here = max(by_time_.get(round(ref.time, 3), []), key=lambda f: iou(f.box, ref.box),
                   default=None)
        if here is not None and iou(here.box, ref.box) >= 0.5:
            found.append(here)
        else:
            lost += 1
    return found, lost


def rejected_places(decisions: list[dict[str, Any]], faces: list[Face]) -> set[int]:
    """Ids of the faces the user said are no faces."""
    return {face.id for d in decisions if d.get("op") == "reject"
            for face in _find(faces, d.get("faces", []))[0]}


def apply_decisions(decisions: list[dict[str, Any]], faces: list[Face],
                    assignment: dict[int, int | None]) -> Outcome:
    """`assignment` (face id -> person id) with the decisions applied in order."""
    out = Outcome(dict(assignment))
    index = by_time(faces)
    for d in decisions:
        op = d.get("op")
        if op == "name":
            out.names[int(d["person"])] = str(d["name"])
        elif op == "merge":
            _merge(out, faces, *_merged(out, faces, d, index))
        elif op in ("split", "assign", "reject"):
            found, lost = _find(faces, d.get("faces", []), index)
            if lost:
                out.stale.append(f"{op} of {lost} face(s) that detection no longer finds")
            target = None if op == "reject" else int(d["person"] if op == "assign"
                                                      else d["new_person"])
            source = d.get("person") if op == "split" else None  # a split without: anyone's
            for face in found:
                if source is None or out.assignment.get(face.id) == int(source):
                    out.assignment[face.id] = target
        elif op == "apart":
            _apart(out, faces, d, index)
        elif op == "hide":
            out.hidden.add(int(d["person"]))
        elif op == "portrait":
            found, _lost = _find(faces, [d["face"]], index)
            out.portraits[int(d["person"])] = found[0].id if found else -1
    present = {p for p in out.assignment.values() if p is not None}
    for person, name in sorted(out.names.items()):
        if person not in present:
            out.stale.append(f"name {name!r} of person {person}, who is no longer found")
    out.names = {p: n for p, n in out.names.items() if p in present}
    for person in sorted(out.hidden - present):
        out.stale.append(f"hiding person {person}, who is no longer found")
    out.hidden &= present
    for person, face in sorted(out.portraits.items()):
        if person not in present or out.assignment.get(face) != person:
            out.stale.append(f"portrait of person {person}: that face is no longer theirs")
    out.portraits = {p: f for p, f in out.portraits.items() if out.assignment.get(f) == p}
    return out


def _merged(out: Outcome, faces: list[Face], d: dict[str, Any],
            index: dict[float, list[Face]]) -> tuple[int, int]:
    """The two people a merge joins: the ids it names, or, where a regrouping numbered one of
    them anew, whoever now holds most of the faces the user compared on that side."""
    present = set(out.assignment.values())
    ids = []
    for key, side in (("person", "faces"), ("other", "other_faces")):
        person = int(d[key])
        if person not in present:
            held = Counter(out.assignment.get(f.id) for f in _find(faces, d.get(side, []),
                                                                   index)[0])
            held.pop(None, None)
            person = held.most_common(1)[0][0] if held else person
        ids.append(person)
    return ids[0], ids[1]


def _merge(out: Outcome, faces: list[Face], person: int, other: int) -> None:
    if person == other:
        return  # one person already (the grouping put the compared faces together)
    frames = {}
    for face in faces:
        frames.setdefault(out.assignment.get(face.id), set()).add(face.frame_id)
    if person in frames and other not in frames:
        return  # the grouping put them together already (the merge was a must-link)
    if person not in frames or other not in frames:
        out.stale.append(f"merge of person {other} into {person}: one of them is no longer found")
    elif frames[person] & frames[other]:
        out.stale.append(f"merge of person {other} into {person}: they now share a frame")
    else:
        for face_id, assigned in out.assignment.items():
            if assigned == other:
                out.assignment[face_id] = person


def _several(out: Outcome, one: list[Face], two: list[Face], person: int, new_person: int
             ) -> None:
    """A person the user called several people: each side stays a person of its own whatever
    a grouping does with it (seed 3302: left to the clusterer, a side joined a person of 32
    false detections). The first side keeps the person's id unless the grouping gave that id
    to other faces: the side is then left where the grouping put it, never merged with them."""
    sides = {f.id for f in one} | {f.id for f in two}
    if not any(p == person and fid not in sides for fid, p in out.assignment.items()):
        for face in one:
            out.assignment[face.id] = person
    for face in two:
        out.assignment[face.id] = new_person


def _apart(out: Outcome, faces: list[Face], d: dict[str, Any],
           index: dict[float, list[Face]]) -> None:
    """A cannot-link: should one person now hold faces of both sides, the other side's faces
    become a person of their own (for a person apart from itself, see `_several`)."""
    one, _lost = _find(faces, d["faces"], index)
    two, _lost = _find(faces, d["other_faces"], index)
    if not one or not two:
        out.stale.append(f"apart of persons {d['person']} and {d['other']}: their faces are "
                         "no longer found")
        return
    out.apart.append((frozenset(f.id for f in one), frozenset(f.id for f in two)))
    if d["person"] == d["other"]:
        _several(out, one, two, int(d["person"]), int(d["new_person"]))
        return
    held = {out.assignment.get(f.id) for f in one} - {None}
    for face in two:
        if out.assignment.get(face.id) in held:
            out.assignment[face.id] = int(d["new_person"])
