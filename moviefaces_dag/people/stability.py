"""What the user's answers do not reach stays where the automatic grouping put it.

Grouping again under the answers (constraints.py) moves the faces the answers name and, with
them, the people those faces are in: that is how one answer settles others. Elsewhere the
clusterer drifts: a person's mean face shifts, a loose face's lead over its second-best person
grows or shrinks by a few hundredths, and faces of people no answer touched leave or join them.
Over fifty answers on each of twenty-seven hard movies that drift was as often wrong as right
(48 faces to 43), and a wrong one costs pairwise precision the user never asked to risk (an
unassigned face joining a person after an answer about someone else). So a face no answer
reaches stays with its automatic group, wherever that group went, or stays unassigned.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def keep_unreached(constrained: np.ndarray, automatic: np.ndarray, reached: np.ndarray,
                   joined: np.ndarray, frame_ids: np.ndarray) -> np.ndarray:
    """Group labels per face (-1: unassigned): `constrained` (the grouping under the answers)
    where a face is `reached` (named by an answer), in a group with a face the answers
    `joined` to others (a must-link moves a person's mean face, and the clusterer may rightly
    draw faces to it), or in a group with others of its automatic group; elsewhere where most
    of its automatic group's unreached faces are now (-1 where the automatic grouping left it
    out, or where that group already has a face in its frame)."""
    out = constrained.copy()
    touched = set(np.unique(constrained[joined & (constrained >= 0)]).tolist())
    both = (automatic >= 0) & (constrained >= 0)
    held = _pairs(automatic, constrained, both)
    # where each automatic group is now: where most of its faces no answer named are
    home: dict[int, int] = {}
    unmoved = _pairs(automatic, constrained, both & ~reached)
    for group, label in sorted(unmoved, key=lambda pair: (-unmoved[pair], pair[1])):
        home.setdefault(group, label)
    frames: dict[int, set[int]] = {}
    for row, label in enumerate(constrained.tolist()):
        if label >= 0:
            frames.setdefault(label, set()).add(int(frame_ids[row]))
    for row in np.flatnonzero(~reached).tolist():
        label, group = int(constrained[row]), int(automatic[row])
        if label in touched or (label >= 0 and group >= 0 and held[group, label] > 1):
            continue  # reached through its person, or with others of its automatic group
        target = home.get(group, -1)
        frame = int(frame_ids[row])
        if target == label or (target >= 0 and frame in frames[target]):
            continue  # where it is, or its automatic group has another face in its frame now
        if label >= 0:
            frames[label].discard(frame)
        if target >= 0:
            frames[target].add(frame)
        out[row] = target
    return out


def _pairs(automatic: np.ndarray, constrained: np.ndarray, rows: np.ndarray
           ) -> Counter[tuple[int, int]]:
    """How many of `rows` are in each (automatic group, constrained group)."""
    return Counter(zip(automatic[rows].tolist(), constrained[rows].tolist(), strict=True))
