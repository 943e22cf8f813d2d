"""What no answer reaches stays where the automatic grouping put it (people/stability.py)."""

from __future__ import annotations

import numpy as np

from moviefaces_dag.people.stability import keep_unreached


def kept(constrained: list[int], automatic: list[int], reached: list[int],
         joined: list[int] = (), frames: list[int] | None = None) -> list[int]:
    n = len(constrained)
    mask = np.zeros(n, dtype=bool)
    mask[list(reached)] = True
    bound = np.zeros(n, dtype=bool)
    bound[list(joined)] = True
    frame_ids = np.arange(n) if frames is None else np.array(frames)
    return keep_unreached(np.array(constrained), np.array(automatic), mask | bound, bound,
                          frame_ids).tolist()


def test_a_loose_face_does_not_join_a_person_no_answer_touched() -> None:
    # faces 0-2 person 0, 3-4 person 1 (answered about: kept apart), face 5 loose; grouped
    # again, face 5 joins person 0, which no answer named
    assert kept([0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, -1], reached=[3, 4]) == [0, 0, 0, 1, 1, -1]


def test_a_face_that_drifted_off_returns_to_its_group_wherever_it_went() -> None:
    # face 2 left person 0 when regrouped (its lead over another person fell); the group is
    # now numbered 4
    assert kept([4, 4, -1, 1, 1], [0, 0, 0, 1, 1], reached=[3]) == [4, 4, 4, 1, 1]
    # ... and faces of a group an answer merged into another follow it there
    assert kept([2, 2, 2, 2, -1], [0, 0, 1, 1, 1], reached=[0, 2], joined=[0, 2]) == \
        [2, 2, 2, 2, 2]


def test_a_person_an_answer_joined_faces_to_may_draw_others() -> None:
    # a run given to person 0 (faces 0 and 3 joined) moves its mean face: loose face 4 joins
    assert kept([0, 0, 1, 0, 0], [0, 0, 1, -1, -1], reached=[0, 3], joined=[0, 3]) == \
        [0, 0, 1, 0, 0]


def test_a_face_whose_group_holds_its_frame_stays_where_it_is() -> None:
    # face 2 would return to group 0, but group 0 has face 1 in the same frame now
    assert kept([0, 0, -1], [0, 0, 0], reached=[0], frames=[0, 1, 1]) == [0, 0, -1]


def test_without_answers_nothing_moves() -> None:
    labels = [0, 0, 1, -1, 2]
    assert kept(labels, labels, reached=[]) == labels


def test_faces_of_a_group_the_answers_parted_stay_with_their_side() -> None:
    # automatic group 0 was two people; the answers named five faces of one and joined them
    # to person 5: the three faces no answer named stay with the other side (7), not follow
    # the named five
    assert kept([5, 5, 5, 5, 5, 7, 7, 7], [0] * 8, reached=range(5), joined=range(5)) == \
        [5, 5, 5, 5, 5, 7, 7, 7]
    # ... and one that drifted off that side returns to it, not to where the named ones went
    assert kept([5, 5, 5, 5, 5, 7, 7, -1], [0] * 8, reached=range(5), joined=range(5)) == \
        [5, 5, 5, 5, 5, 7, 7, 7]
