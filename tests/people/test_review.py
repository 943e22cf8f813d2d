"""The review queue on a small real store: questions best first, every answer a decision that
regroup applies, "no" to same-person kept as a cannot-link, undo taking an answer back, and the
editor's review action recording answers like every other action."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from synthetic_store import build_movie

from moviefaces_dag.editor.actions import movie_action
from moviefaces_dag.editor.review import review_view
from moviefaces_dag.faces.chances import p_mixed, p_piece, p_same
from moviefaces_dag.people.constraints import Constraints
from moviefaces_dag.people.decision_log import DecisionError, check_entry
from moviefaces_dag.people.decisions import Decisions, Face, apply_decisions, refs
from moviefaces_dag.people.movie_people import group_faces
from moviefaces_dag.people.person_runs import apart_from_rest, spread
from moviefaces_dag.people.questions import Question
from moviefaces_dag.people.review import CHECK_MIXED, PIECE_WEIGHT, Review
from moviefaces_dag.people.review_data import ReviewData


def members_of(review: Review) -> dict[int, list[int]]:
    """Each person's faces in the queue's grouping."""
    members: dict[int, list[int]] = {}
    for face, person in review.outcome.assignment.items():
        if person is not None:
            members.setdefault(person, []).append(face)
    return members


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
    assert {q.kind for q in questions} >= {"who", "face"}
    # "who is this person?": the person asked about and the bigger people it may be
    whois = next(q for q in questions if q.kind == "who" and q.person is not None)
    into = whois.candidates[0][0]
    assert whois.person not in {p for p, _ in whois.candidates}
    merge = review.decision(whois, str(into))
    assert {k: merge[k] for k in ("op", "person", "other")} == {
        "op": "merge", "person": into, "other": whois.person}
    assert merge["other_faces"] and merge["faces"]  # the faces compared: a must-link
    after = Review(data, [merge])
    assert whois.person not in set(after.outcome.assignment.values())
    assert all(after.outcome.assignment[f] == into for f in whois.faces)
    assert all(q.key != whois.key for q in after.questions())
    who = next(q for q in questions if q.kind == "who" and q.person is None)  # a run
    person = who.candidates[0][0]
    assign = review.decision(who, str(person))
    assert assign["op"] == "assign"
    # the person's faces the run was compared with are kept: a must-link, not a move
    assert check_entry(assign, library=False)["person_faces"]
    assert all(Review(data, [assign]).outcome.assignment[f] == person for f in who.faces)
    assert review.decision(who, "nonface")["op"] == "reject"
    assert review.decision(who, "skip") is None
    assert who.key not in {q.key for q in review.questions()}  # skipped: not asked again
    with pytest.raises(ValueError, match="does not answer"):
        review.decision(who, "maybe")


def test_no_to_same_person_is_a_cannot_link_that_a_regrouping_keeps(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    whois = next(q for q in review.questions() if q.kind == "who" and q.person is not None)
    apart = review.decision(whois, "new")  # none of them: a cannot-link with each
    assert check_entry(apart, library=False)["op"] == "apart"
    after = Review(data, [apart])
    assert all(q.key != whois.key for q in after.questions())  # never asked again
    # "not the first of them" alone: the people it names no face of are as they were, face
    # for face (stability.py)
    first = whois.candidates[0][0]
    one = {**apart, "other": first, "other_faces": refs(review._shown(first))}
    named = review._ids(one) | review._ids({"faces": one["other_faces"]})
    before_people, after_people = members_of(review), members_of(Review(data, [one]))
    untouched = [p for p, ids in before_people.items() if not named & set(ids)]
    assert untouched and all(sorted(after_people[p]) == sorted(before_people[p])
                             for p in untouched)
    offered = {p for p, _ in whois.candidates}
    assert not any(q.person == whois.person and offered & {p for p, _ in q.candidates}
                   for q in after.questions() if q.kind == "who")
    # A later grouping that puts both sides in one person: the other side is parted again.
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in data.rows.values()]
    merged = {f: (whois.person if p in offered else p)
              for f, p in review.outcome.assignment.items()}
    outcome = apply_decisions([apart], faces, merged)
    # the faces each side showed are what the answer judged, and what it keeps apart
    other_side = [f for p in offered for f in data.clearest(
        [f for f, q in review.outcome.assignment.items() if q == p])]
    assert {outcome.assignment[f] for f in other_side} == {apart["new_person"]}
    # ... and the clustering itself never puts them together: the faces the "same person"
    # answer compared are grouped as one, the sides of the "no" apart, whatever its threshold
    same = next(q for q in review.questions() if q.kind in ("who", "same")
                and q.person is not None)
    yes = review.decision(same, "yes" if same.kind == "same" else str(same.candidates[0][0]))
    def grouped(threshold: float, decision: dict) -> dict[int, int | None]:
        """The clusterer's own grouping under the answer, before any decision is applied."""
        settings = replace(data.grouping.settings, similarity_threshold=threshold)
        return group_faces(replace(data.grouping, settings=settings), faces, [decision],
                           data.next_id)

    together = grouped(-1.0, apart)  # everyone would be one person, but for the answer
    assert not {together[f] for f in whois.faces} & {together[f] for f in other_side}
    assert None not in {together[f] for f in whois.faces}
    alone = grouped(2.0, yes)  # no one would be grouped, but for the answer
    compared = (*data.clearest([f for f, p in review.outcome.assignment.items()
                                if p == yes["person"]]),
                *data.clearest([f for f, p in review.outcome.assignment.items()
                                if p == yes["other"]]))
    assert len({alone[f] for f in compared}) == 1 and alone[compared[0]] is not None
    assert len({grouped(2.0, {"op": "name", "person": 1, "name": "x"})[f]
                for f in compared}) > 1  # without it: apart
    with pytest.raises(DecisionError):
        check_entry({**apart, "faces": []}, library=False)


def test_a_merge_holds_when_a_regrouping_numbers_its_people_anew(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in data.rows.values()]
    same = next(q for q in review.questions() if q.kind in ("same", "who")
                and q.person is not None)
    into = same.person if same.kind == "same" else same.candidates[0][0]
    merge = review.decision(same, "yes" if same.kind == "same" else str(into))
    small = merge["other"]
    # a later grouping gave the smaller person a fresh id: the merge finds it by its faces
    renumbered = {f: (999 if p == small else p) for f, p in review.outcome.assignment.items()}
    outcome = apply_decisions([merge], faces, renumbered)
    assert {outcome.assignment[f] for f, p in renumbered.items() if p == 999} == {into}
    assert not outcome.stale
    # the clusterer's group that is mostly what the answers made person N is person N
    bound = Constraints(together=(frozenset({0, 1, 2}),), people=(17,))
    assert bound.named({0: 5, 1: 5, 2: 5, 3: 5}) == {5: 17}
    assert bound.named({r: 5 for r in range(10)}) == {}  # a run split off a bigger person
    # the next new person never takes an id a decision names
    taken = {"op": "merge", "person": review.new_person() + 5, "other": into,
             "faces": [], "other_faces": []}
    assert Review(data, [taken]).new_person() > taken["person"]


def test_an_answered_run_is_not_asked_about_again_in_its_person(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    belongs = next(q for q in review.questions() if q.kind == "belongs")
    split = review.decision(belongs, "no")
    after = Review(data, [split])
    assert not [q for q in after.questions() if q.kind == "belongs"
                and q.person == split["new_person"] and set(q.faces) <= set(belongs.faces)]


def test_a_run_that_is_no_face_is_rejected_from_its_person(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    belongs = next((q for q in review.questions() if q.kind == "belongs"), None)
    assert belongs is not None and "nonface" in belongs.answers
    reject = review.decision(belongs, "nonface")
    assert reject["op"] == "reject"
    assert all(Review(data, [reject]).outcome.assignment.get(f) is None for f in belongs.faces)


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


def test_a_small_blurred_person_is_asked_about_once_whatever_the_similarity(movie) -> None:
    # the recogniser cannot match a few blurred faces to their person: the chance that a small,
    # unclear person is part of a bigger one comes from its size and clarity, until the user
    # has said who it is not
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    members = members_of(review)
    asked = next(q for q in review.questions() if q.kind == "same"
                 or (q.kind == "who" and q.person is not None))
    small = asked.other if asked.kind == "same" else asked.person
    piece = PIECE_WEIGHT * p_piece(data.clarity_of(members[small]), len(members[small]))
    offered = [p for p, _ in asked.candidates] or [asked.person]
    by_similarity = sum(p_same(float(data.mean(members[small]) @ data.mean(members[p])),
                               len(members[small])) for p in offered)
    # "who is person N?" also asks whether N is several people
    mixed = 0.0 if asked.kind == "same" else p_mixed(
        data.clarity_of(members[small]), spread(apart_from_rest(data, members[small])))
    assert by_similarity < piece and asked.chance == pytest.approx(min(1.0, piece + mixed))
    no = review.decision(asked, "new" if asked.kind == "who" else "no")
    assert not [q for q in Review(data, [no]).questions()
                if small in (q.person, q.other) and q.kind in ("same", "who")]


def test_two_big_people_are_less_likely_one_than_two_small_at_one_similarity() -> None:
    assert p_same(0.4, 2) > p_same(0.4, 10) > p_same(0.4, 40)
    assert p_same(0.4, 1) == p_same(0.4, 2)  # a person has two faces or more
    assert p_piece(float("nan"), 3) == 0.0  # a store without embedding lengths: no guess
    assert p_piece(5.0, 3) > p_piece(10.0, 3) and p_piece(5.0, 3) > p_piece(5.0, 30)


def test_a_blurred_person_whose_runs_differ_is_likelier_several_people() -> None:
    assert p_mixed(6.0, 0.4) > p_mixed(10.0, 0.4) and p_mixed(6.0, 0.4) > p_mixed(6.0, 0.8)
    assert p_mixed(float("nan"), 0.4) == 0.0  # a store without embedding lengths: no guess


def test_the_biggest_person_is_asked_only_whether_it_is_one_person(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    members = members_of(review)
    biggest = max(members, key=lambda p: (len(members[p]), -p))  # no one bigger to offer
    asked = next(q for q in review.questions() if q.key == f"whois:{biggest}")
    assert not asked.candidates and asked.answers == ("new", "several", "nonface", "skip")
    assert asked.text().startswith(f"Is person {biggest} one person?")
    assert asked.new_label == "one person"
    assert asked.chance == pytest.approx(p_mixed(data.clarity_of(members[biggest]),
                                                 spread(apart_from_rest(data, members[biggest]))))
    one = check_entry(review.decision(asked, "new"), library=False)  # the faces shown confirmed
    assert one["op"] == "assign" and one["person"] == biggest
    after = Review(data, [one])
    assert asked.key not in {q.key for q in after.questions()}  # the user's word on it
    assert after.outcome.assignment == review.outcome.assignment  # nothing moved


def test_a_person_of_several_people_is_parted_in_two(movie) -> None:
    data = ReviewData(movie.folder.published())
    review = Review(data, [])
    whois = next(q for q in review.questions() if q.kind == "who" and q.person is not None)
    held = {f for f, p in review.outcome.assignment.items() if p == whois.person}
    several = check_entry(review.decision(whois, "several"), library=False)
    assert several["op"] == "apart" and several["person"] == several["other"] == whois.person
    sides = [review._ids({"faces": several[k]}) for k in ("faces", "other_faces")]
    assert sides[0] and sides[1] and not sides[0] & sides[1] and sides[0] | sides[1] == held
    after = Review(data, [several]).outcome.assignment
    assert {after[f] for f in sides[0]} == {whois.person}
    assert {after[f] for f in sides[1]} == {several["new_person"]}
    # each side stays a person of its own whatever a later grouping makes of them (here: both
    # in person 123; then the first side in 7, the second in 123) ...
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in data.rows.values()]
    for taken_in in ({f: 123 for f in held}, {f: 123 if f in sides[1] else 7 for f in held}):
        parted = apply_decisions([several], faces, {**review.outcome.assignment, **taken_in})
        assert {parted.assignment[f] for f in sides[0]} == {whois.person}
        assert {parted.assignment[f] for f in sides[1]} == {several["new_person"]}
    # ... but the first side never joins other faces a grouping gave the person's id
    other = next(f for f, p in review.outcome.assignment.items() if p not in (None, whois.person))
    taken_in = {**review.outcome.assignment, **{f: 7 for f in held}, other: whois.person}
    parted = apply_decisions([several], faces, taken_in).assignment
    assert {parted[f] for f in sides[0]} == {7} and parted[other] == whois.person
    # the user said the person is several people, not who any of them is: each side may still
    # be asked about as part of someone bigger
    assert not Review(data, [several])._judged()
    with pytest.raises(ValueError, match="does not answer"):
        review.decision(replace(whois, faces=whois.faces[:1]), "several")  # one face: one person


def test_a_likely_mixed_person_is_asked_about_before_an_answer_joins_faces_to_it(movie) -> None:
    review = Review(ReviewData(movie.folder.published()), [])
    review.questions()
    person = next(iter(review._sizes))
    join = Question("who", "who:1", (1,), candidates=((person, 0.9),), chance=0.9, gain=5.0)
    check = Question("who", f"whois:{person}", (2,), person, chance=0.3, gain=0.5)
    other = Question("face", "face:1:3", (3,), 1, chance=0.5, gain=0.7)

    def order(mixed: float) -> list[str]:
        ranked = review._checked_first([join, check, other], {person: mixed})
        return [q.key for q in sorted(ranked, key=lambda q: (-q.gain, q.key))]

    assert order(CHECK_MIXED) == [check.key, join.key, other.key]
    assert order(CHECK_MIXED / 2) == [join.key, other.key, check.key]
