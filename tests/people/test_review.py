"""The review queue on a small real store: questions best first, every answer a decision that
regroup applies, "no" to same-person kept as a cannot-link, undo taking an answer back, and the
editor's review action recording answers like every other action."""

from __future__ import annotations

import time

import pytest
from synthetic_store import build_movie

from moviefaces_dag.editor.actions import movie_action
from moviefaces_dag.editor.review import review_view
from moviefaces_dag.people.decision_log import DecisionError, check_entry
from moviefaces_dag.people.decisions import Decisions, Face, apply_decisions, refs
from moviefaces_dag.people.review import Review, ReviewData


@pytest.fixture()
def movie(tmp_path):
    built = build_movie(tmp_path / "out")
    built.publish()
    return built


def test_questions_come_best_first_and_each_answer_is_a_decision(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    questions = review.questions()
    assert questions and [q.gain for q in questions] == sorted(
        (q.gain for q in questions), reverse=True)
    assert {q.kind for q in questions} >= {"same", "who", "face"}
    same = next(q for q in questions if q.kind == "same" and {q.person, q.other} == {2, 4})
    merge = review.decision(same, "yes")
    assert merge == {"op": "merge", "person": same.person, "other": same.other}
    after = Review(data, [merge])
    assert same.other not in set(after.outcome.assignment.values())
    assert all(q.key != same.key for q in after.questions())
    who = next(q for q in questions if q.kind == "who")
    person = who.candidates[0][0]
    assign = review.decision(who, str(person))
    assert assign["op"] == "assign"
    assert all(Review(data, [assign]).outcome.assignment[f] == person for f in who.faces)
    assert review.decision(who, "nonface")["op"] == "reject"
    assert review.decision(who, "skip") is None
    assert who.key not in {q.key for q in review.questions()}  # skipped: not asked again
    with pytest.raises(ValueError, match="does not answer"):
        review.decision(who, "maybe")


def test_no_to_same_person_is_a_cannot_link_that_a_regrouping_keeps(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    same = next(q for q in review.questions() if q.kind == "same")
    apart = review.decision(same, "no")
    assert check_entry(apart, library=False)["op"] == "apart"
    after = Review(data, [apart])
    assert all(q.key != same.key for q in after.questions())  # never asked again
    # A later grouping that puts both sides in one person: the other side is parted again.
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in data.rows.values()]
    merged = {f: (same.person if p == same.other else p)
              for f, p in review.outcome.assignment.items()}
    outcome = apply_decisions([apart], faces, merged)
    other_side = [f for f, p in review.outcome.assignment.items() if p == same.other]
    assert {outcome.assignment[f] for f in other_side} == {apart["new_person"]}
    with pytest.raises(DecisionError):
        check_entry({**apart, "faces": []}, library=False)


def test_the_editor_records_answers_and_undo_takes_one_back(movie) -> None:
    root, key = movie.root, movie.key
    view = review_view(root, key, set())
    question = view.question
    assert question is not None and view.faces
    answer = "yes" if question.kind != "who" else str(question.candidates[0][0])
    started = time.perf_counter()
    done, changed = movie_action(root, key, "review", {"question": question.key,
                                                      "answer": answer})
    assert changed == [key] and time.perf_counter() - started < 5
    entries = Decisions(movie.folder.path).load()
    assert len(entries) == 1
    assert review_view(root, key, set()).question.key != question.key
    movie_action(root, key, "undo", {})
    assert Decisions(movie.folder.path).load() == []
    assert review_view(root, key, set()).question.key == question.key


def test_apart_faces_are_kept_by_place(movie) -> None:
    data = ReviewData(movie.folder.published())
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in data.rows.values()]
    decision = {"op": "apart", "person": 1, "other": 2, "new_person": 99,
                "faces": refs(faces[:1]), "other_faces": refs(faces[1:2])}
    Decisions(movie.folder.path).add(decision)
    assert Decisions(movie.folder.path).load()[0]["op"] == "apart"
