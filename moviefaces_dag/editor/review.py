"""The editor's review page: the review queue's next question (people/review.py) with the faces
to judge, and its answers recorded through the editor's action path (`movie_action`, action
"review"), like every other decision."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..people.checks import RefusedError
from ..people.questions import Question
from ..people.review import Review
from ..people.review_data import ReviewData
from ..store import OutputRoot
from .views import FaceView, MovieState, file_url, movie_state

_DATA: dict[Path, ReviewData] = {}
_LOCK = threading.Lock()
KEPT = 8


def review_data(root: OutputRoot, key: str) -> ReviewData:
    """The queue's view of the movie's published result, read once per generation."""
    db = root.folder(key).published()
    with _LOCK:
        found = _DATA.get(db.db_path)
    if found is None:
        found = ReviewData(db)
        with _LOCK:
            while len(_DATA) >= KEPT:
                del _DATA[next(iter(_DATA))]
            _DATA[db.db_path] = found
    return found


@dataclass(frozen=True)
class Candidate:
    number: int  # the key that picks it
    person: int
    label: str
    portrait: FaceView
    chance: float


@dataclass(frozen=True)
class ReviewView:
    movie: MovieState
    question: Question | None
    faces: list[FaceView]
    other_faces: list[FaceView]
    candidates: list[Candidate]
    others: list[tuple[int, str]]  # everyone else the run may be: (person, label)
    skipped: list[str]
    left: int  # questions left in the queue

    @property
    def nothing_likely(self) -> bool:
        return self.question is None or not self.question.likely


def review_now(root: OutputRoot, key: str, skipped: set[str]) -> tuple[MovieState, Review]:
    state = movie_state(root, key)
    return state, Review(review_data(root, key), state.decisions.load(), set(skipped))


def review_view(root: OutputRoot, key: str, skipped: set[str]) -> ReviewView:
    state, review = review_now(root, key, skipped)
    questions = review.questions()
    question = questions[0] if questions else None
    prefix = f"{key}/"

    def view(face_id: int) -> FaceView:
        row = state.faces[face_id]
        return FaceView(face_id, file_url(prefix + (row.crop_path or row.thumb_path)),
                        float(row.time or 0.0), review.outcome.assignment.get(face_id))

    candidates, others = [], []
    if question is not None and question.kind == "who":
        for number, (person, chance) in enumerate(question.candidates, start=1):
            card = state.person(person)
            if card is not None:
                candidates.append(Candidate(number, person, card.label, card.portrait, chance))
        shown = {c.person for c in candidates}
        for person in review.choices(question):
            card = state.person(person)
            if person not in shown and card is not None:
                others.append((person, card.label))
    return ReviewView(state, question, [view(f) for f in question.faces] if question else [],
                      [view(f) for f in question.other_faces] if question else [],
                      candidates, others, sorted(skipped), len(questions))


def review_decision(root: OutputRoot, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """The decision that records the answer in `body` ({"question": key, "answer": ...}) to
    that question as the queue asks it now (RefusedError when it no longer does)."""
    skipped = {str(s) for s in body.get("skipped", []) if isinstance(s, str)}
    _state, review = review_now(root, key, skipped)
    wanted = str(body.get("question", ""))
    question = next((q for q in review.questions() if q.key == wanted), None)
    if question is None:
        raise RefusedError("that question is no longer asked (the people changed meanwhile)")
    try:
        decision = review.decision(question, str(body.get("answer", "")))
    except ValueError as exc:
        raise RefusedError(str(exc)) from None
    if decision is None:
        raise RefusedError("a skipped question records nothing")
    return decision
