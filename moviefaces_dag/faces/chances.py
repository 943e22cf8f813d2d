"""Chances the review queue (people/review.py) and the report's suggestions share: how likely
two people are one, an unassigned face is a given person, a face is not its person's, a
detection is no face, a person is several people. From what can be seen (embedding
similarity, how clearly the recogniser and the detector saw a face), never from ground truth.

Logistic curves, chance = 1 / (1 + exp(-(w . x + b))), fitted by `scripts/calibrate_review.py`
with the default models (SFace, YuNet) on hard movies used for tuning: WHO, BELONGS_NOT and
NONFACE on hard_a (cast 20, seed 111) and cal_901 (150 s, cast 20, seed 901); SAME's size term
and PIECE on those, hard_b and seeds 8123, 6427 and 7919. Measured on other movies in
docs/review.md.
"""

from __future__ import annotations

import math

EVEN = 0.5  # the report suggests what has at least an even chance

# (weights, bias) per question, features in the order the functions below pass them.
# two people are one: similarity of their mean faces, log of the smaller one's number of faces.
# A mean of many faces is sure: a low similarity between two big people says "not one" more
# firmly than between two small ones. The similarity curve of two-face people is the earlier
# fit's; each e-fold of faces takes 1 from the log-odds (calibrate_review.py "same_size").
SAME = ((22.326, -1.0), -8.636)
WHO = ((9.473,), -5.291)  # an unassigned run is this person: similarity to the person's mean
BELONGS_NOT = ((-8.863,), 1.938)  # a run is not its person's: similarity to their other faces
NONFACE = ((-0.575, -8.01), 9.582)  # a detection is no face: embedding length, detector score
# a person is a piece of a bigger one whatever the similarity says (a blurred few faces the
# recogniser cannot match): median embedding length, log of the number of faces
PIECE = ((-0.35, -0.987), 3.798)  # calibrate_review.py "piece"
# a person mixes people (who-is-this shows two or more): median embedding length, the mean
# similarity of each of its runs to the rest of it. Blurred faces the recogniser saw vaguely
# are what the grouping mixes.
MIXED = ((-0.703, -9.183), 9.45)  # calibrate_review.py "mixed"


def _logistic(x: tuple[float, ...], curve: tuple[tuple[float, ...], float]) -> float:
    if any(math.isnan(v) for v in x):
        return 0.5
    z = sum(w * v for w, v in zip(curve[0], x, strict=True)) + curve[1]
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def p_same(similarity: float, faces: int) -> float:
    """The chance that two people are one; `faces`: the smaller one's number of faces."""
    return _logistic((similarity, math.log(max(faces, 2))), SAME)  # persons have 2 or more


def p_who(similarity: float) -> float:
    return _logistic((similarity,), WHO)


def p_belongs_not(similarity: float) -> float:
    return _logistic((similarity,), BELONGS_NOT)


def p_nonface(embedding_norm: float, score: float) -> float:
    return _logistic((embedding_norm, score), NONFACE)


def p_mixed(embedding_norm: float, rest_similarity: float) -> float:
    """The chance that a person holds faces of several people; 0 without embedding lengths."""
    if math.isnan(embedding_norm):
        return 0.0
    return _logistic((embedding_norm, rest_similarity), MIXED)


def p_piece(embedding_norm: float, faces: int) -> float:
    """The chance that a person of `faces` faces this clear is part of a bigger one; 0 where
    the store has no embedding lengths (the curve's main input)."""
    if math.isnan(embedding_norm) or faces < 1:
        return 0.0
    return _logistic((embedding_norm, math.log(faces)), PIECE)
