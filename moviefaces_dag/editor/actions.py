"""The editor's actions: each one checked with the same checks as the command line
(people/checks.py) against what the page shows, then recorded in the same decisions file."""

from __future__ import annotations

from typing import Any

from ..cli.people import describe
from ..people.checks import RefusedError, clean_name, new_person_id
from ..people.decisions import Decisions, refs
from ..people.library import library_decisions
from ..store import OutputRoot
from .views import describe_library, library_people, movie_state

LIBRARY = ""  # what a library decision makes again: the library (a movie's key otherwise)
MOVIE_ACTIONS = ("name", "merge", "move", "reject", "hide", "portrait", "review", "undo", "redo",
                 "withdraw")
LIBRARY_ACTIONS = ("name", "link", "unlink", "undo", "redo", "withdraw")


def _int(body: dict[str, Any], key: str) -> int:
    try:
        return int(body[key])
    except (KeyError, TypeError, ValueError):
        raise RefusedError(f"{key} must be a number") from None


def _ids(body: dict[str, Any]) -> list[int]:
    faces = body.get("faces")
    if not isinstance(faces, list) or not faces:
        raise RefusedError("select at least one face")
    try:
        return [int(f) for f in faces]
    except (TypeError, ValueError):
        raise RefusedError("face ids are numbers") from None


def movie_action(root: OutputRoot, key: str, action: str, body: dict[str, Any]
                 ) -> tuple[str, list[str]]:
    """Record `action` on movie `key`; return what was done, in words, and the movies whose
    decisions changed (RefusedError or DecisionError, one line, when refused: nothing is
    recorded then)."""
    state = movie_state(root, key)
    decisions = state.decisions
    if action == "undo":
        return f"undone: {describe(decisions.undo())}", [key]
    if action == "redo":
        return f"redone: {describe(decisions.redo())}", [key]
    if action == "withdraw":
        return f"withdrawn: {describe(decisions.withdraw(_int(body, 'decision')))}", [key]
    decision = _movie_decision(root, key, action, body, state)
    if decision is None:
        return "nothing to record: those faces are already that person's", []
    # Checked again under the file's lock, against the decisions in force then.
    recorded = decisions.add(decision, lambda _made: _recheck(root, key, decision))
    return describe(recorded), [key]


def _movie_decision(root: OutputRoot, key: str, action: str, body: dict[str, Any],
                    state: Any) -> dict[str, Any] | None:
    grouping = state.grouping
    if action == "review":  # an answer to the review queue's question
        from .review import review_decision

        decision = review_decision(root, key, body)
        if decision["op"] == "merge":
            grouping.check_merge(decision["person"], decision["other"])
        elif decision["op"] == "assign":  # faces already theirs: a confirmation, recorded too
            grouping.check_assign(decision["person"], _review_faces(state, decision))
        return decision
    if action == "name":
        person = _int(body, "person")
        grouping.person(person)
        return {"op": "name", "person": person, "name": clean_name(body.get("name", ""))}
    if action == "merge":
        person, other = _int(body, "person"), _int(body, "other")
        grouping.check_merge(person, other)
        return {"op": "merge", "person": person, "other": other}
    if action == "hide":
        person = _int(body, "person")
        grouping.person(person)
        return {"op": "hide", "person": person}
    if action == "portrait":
        person, face = _int(body, "person"), _int(body, "face")
        return {"op": "portrait", "person": person,
                "face": refs([grouping.check_portrait(person, face)])[0]}
    if action == "reject":
        return {"op": "reject", "faces": refs(grouping.face_list(_ids(body)))}
    if action == "move":
        ids = _ids(body)
        target = body.get("person")
        if target in (None, "", "new"):
            sources = {grouping.person_of(f) for f in ids}
            source = sources.pop() if len(sources) == 1 else None
            faces = grouping.check_split(source, ids)
            new = new_person_id(root.folder(key), state.decisions.entries(), grouping)
            decision = {"op": "split", "new_person": new, "faces": refs(faces)}
            return {**decision, "person": source} if source is not None else decision
        faces = grouping.check_assign(_int(body, "person"), ids)
        return {"op": "assign", "person": _int(body, "person"), "faces": refs(faces)} \
            if faces else None
    raise RefusedError(f"unknown action {action!r} (one of {', '.join(MOVIE_ACTIONS)})")


def _review_faces(state: Any, decision: dict[str, Any]) -> list[int]:
    from ..people.decisions import Face, _find

    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in state.faces.values()]
    return [f.id for f in _find(faces, decision["faces"])[0]]


def _recheck(root: OutputRoot, key: str, decision: dict[str, Any]) -> None:
    """The checks once more, on the people as they are under the lock (another tab, or the
    command line, may have decided in between)."""
    grouping = movie_state(root, key).grouping
    op = decision["op"]
    if op == "merge":
        grouping.check_merge(decision["person"], decision["other"])
    elif "person" in decision:  # name, hide, portrait, assign, split from a person
        grouping.person(decision["person"])


def library_action(root: OutputRoot, action: str, body: dict[str, Any]
                   ) -> tuple[str, list[str]]:
    """Record `action` in the library's decisions; return what was done, in words, and what
    to make again (the library, or the movies a name was given in)."""
    decisions: Decisions = library_decisions(root)
    if action == "undo":
        return f"undone: {describe_library(decisions.undo())}", [LIBRARY]
    if action == "redo":
        return f"redone: {describe_library(decisions.redo())}", [LIBRARY]
    if action == "withdraw":
        return (f"withdrawn: {describe_library(decisions.withdraw(_int(body, 'decision')))}",
                [LIBRARY])
    members = {(m.movie, m.person_id) for p in library_people(root) for m in p.members}

    def member(movie_field: str, person_field: str) -> tuple[str, int]:
        ref = (str(body.get(movie_field, "")), _int(body, person_field))
        if ref not in members:
            raise RefusedError(f"the library has no person {ref[1]} of movie {ref[0]!r}")
        return ref

    if action == "name":
        movie, person = member("movie", "person")
        decision = {"op": "name", "movie": movie, "person": person,
                    "name": clean_name(body.get("name", ""))}
    elif action == "link":
        if "other_ref" in body:  # the page's choice: "movie|person"
            body["other_movie"], _, body["other"] = str(body["other_ref"]).rpartition("|")
        movie, person = member("movie", "person")
        other_movie, other = member("other_movie", "other")
        if movie == other_movie:
            raise RefusedError("two people of one movie are merged, not linked")
        decision = {"op": "link", "movie": movie, "person": person,
                    "other_movie": other_movie, "other": other}
    elif action == "unlink":
        movie, person = member("movie", "person")
        decision = {"op": "unlink", "movie": movie, "person": person}
    else:
        raise RefusedError(f"unknown action {action!r} (one of {', '.join(LIBRARY_ACTIONS)})")
    return describe_library(decisions.add(decision)), [LIBRARY]
