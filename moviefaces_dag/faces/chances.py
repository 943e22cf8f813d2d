"""Chances the review queue (people/review.py) and the report's suggestions share: how likely
two people are one, an unassigned face is a given person, a face is not its person's, a
detection is no face. From what can be seen (embedding similarity, how clearly the recogniser
and the detector saw a face), never from ground truth.

Logistic curves, chance = 1 / (1 + exp(-(w . x + b))), fitted by `scripts/calibrate_review.py`
on two hard movies used for tuning (hard_a: cast 20, seed 111; cal_901: 150 s, cast 20, seed
901) with the default models (SFace, YuNet); measured on other movies in docs/review.md.
"""

from __future__ import annotations

import math

EVEN = 0.5  # the report suggests what has at least an even chance

# (weights, bias) per question, features in the order the functions below pass them.
SAME = ((22.326,), -9.329)  # two people are one: similarity of their mean faces
WHO = ((9.473,), -5.291)  # an unassigned run is this person: similarity to the person's mean
BELONGS_NOT = ((-8.863,), 1.938)  # a run is not its person's: similarity to their other faces
NONFACE = ((-0.575, -8.01), 9.582)  # a detection is no face: embedding length, detector score


def _logistic(x: tuple[float, ...], curve: tuple[tuple[float, ...], float]) -> float:
    if any(math.isnan(v) for v in x):
        return 0.5
    z = sum(w * v for w, v in zip(curve[0], x, strict=True)) + curve[1]
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def p_same(similarity: float) -> float:
    return _logistic((similarity,), SAME)


def p_who(similarity: float) -> float:
    return _logistic((similarity,), WHO)


def p_belongs_not(similarity: float) -> float:
    return _logistic((similarity,), BELONGS_NOT)


def p_nonface(embedding_norm: float, score: float) -> float:
    return _logistic((embedding_norm, score), NONFACE)
