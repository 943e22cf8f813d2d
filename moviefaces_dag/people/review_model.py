"""The review queue's chances: how likely an answer changes the grouping, from what the queue
can see (embedding similarity, how clearly the recogniser saw a face), never from ground truth.

Logistic curves fitted by `scripts/calibrate_review.py` on hard_a (cast 20, seed 111) with the
default models (SFace, YuNet); measured on movies not used for the fit in docs/review.md.
"""

from __future__ import annotations

import math

# (slope, centre): chance = 1 / (1 + exp(-slope * (x - centre)))
SAME = (20.2, 0.435)  # two people are one: similarity of their mean faces
WHO = (7.63, 0.593)  # an unassigned run is this person: similarity to the person's mean
BELONGS_NOT = (-10.2, 0.334)  # a run is not its person's: similarity to the person's other faces
NONFACE = (-0.77, 6.40)  # a detection is no face: the recogniser's embedding length


def _logistic(x: float, curve: tuple[float, float]) -> float:
    if math.isnan(x):
        return 0.5
    z = curve[0] * (x - curve[1])
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def p_same(similarity: float) -> float:
    return _logistic(similarity, SAME)


def p_who(similarity: float) -> float:
    return _logistic(similarity, WHO)


def p_belongs_not(similarity: float) -> float:
    return _logistic(similarity, BELONGS_NOT)


def p_nonface(embedding_norm: float) -> float:
    return _logistic(embedding_norm, NONFACE)
