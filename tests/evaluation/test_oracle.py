"""bench_review's answerer answers as a user who knows the cast: by the identity of most real
faces shown, "several people" where those faces show two or more, "not a face" only where
nothing shown is a real face."""

from __future__ import annotations

from dataclasses import replace

from moviefaces_dag.evaluation.oracle import Oracle
from moviefaces_dag.people.decisions import Outcome
from moviefaces_dag.people.questions import Question

IDENTITY = {1: "ann", 2: "ann", 3: "bob", 4: "bob", 5: None, 6: None, 7: "ann", 8: "bob"}
OUTCOME = Outcome({1: 10, 2: 10, 3: 20, 4: 20, 5: 30, 6: 30, 7: 40, 8: 40})
ORACLE = Oracle(IDENTITY, {f: f for f in IDENTITY})  # every face in a frame of its own


def test_who_is_a_person() -> None:
    ask = Question("who", "whois", (7, 8), 40, candidates=((10, 0.5), (20, 0.5)))
    assert ORACLE.answer(ask, OUTCOME) == "several"  # ann and bob in equal parts
    assert "several" in ask.answers
    alone = Question("who", "whois", (1, 2), 10, candidates=((20, 0.5),))
    assert ORACLE.answer(alone, OUTCOME) == "new"  # ann, and bob is not ann: none of these
    assert ORACLE.answer(Question("who", "whois", (5,), 30, candidates=((10, 0.5),)),
                         OUTCOME) == "nonface"  # nothing real
    merged = Outcome({**OUTCOME.assignment, 8: 10})  # person 40 is ann's now
    assert ORACLE.answer(replace(ask, faces=(7,)), merged) == "10"


def test_a_person_showing_two_people_is_several_people() -> None:
    # most faces of person 10 are ann's, but the faces the question shows are of ann and bob
    shown = Question("who", "whois", (1, 2, 3), 10, candidates=((20, 0.5),))
    assert ORACLE.answer(shown, OUTCOME) == "several"
    one = Question("who", "whois", (1, 2, 5), 10)  # ann and no face: one person, no one else
    assert ORACLE.answer(one, OUTCOME) == "new"


def test_runs_and_members() -> None:
    assert ORACLE.answer(Question("who", "who", (7,), candidates=((20, 0.9),)), OUTCOME) == "10"
    assert ORACLE.answer(Question("who", "who", (5, 6)), OUTCOME) == "nonface"
    assert ORACLE.answer(Question("belongs", "b", (3,), 20), OUTCOME) == "yes"
    assert ORACLE.answer(Question("belongs", "b", (7,), 40), OUTCOME) == "no"  # a tie: no one
    assert ORACLE.answer(Question("belongs", "b", (5,), 30), OUTCOME) == "nonface"
    assert ORACLE.answer(Question("face", "f", (5,), 30), OUTCOME) == "no"
    assert ORACLE.answer(Question("same", "s", (1,), 10, 20, (3,)), OUTCOME) == "no"
