"""The review queue: the questions whose answers most likely make a movie's people right, one at
a time, best first.

Four kinds of question, each about faces the user can judge at a glance:

- "same": are these two people one person? (yes: merge; no: apart, a cannot-link);
- "who": who is this unassigned run (faces of one track in one shot)? (a candidate person:
  assign; "new": a person of its own; "nonface": reject); who is this person? (a bigger
  person: merge; "new": none of these, an apart with each, or, where no one bigger is
  offered, one person, the faces shown confirmed; "several": several people, the person
  parted in two by its faces, an apart of the two sides; "nonface": reject);
- "face": is this assigned, unclear detection a face? (yes: assign, a confirmation; no: reject);
- "belongs": does this run belong to its person? (yes: assign, a confirmation; no: split off;
  "nonface": reject).

Each question's gain is the expected BCubed correctness its answer adds (the chance that the
answer changes the grouping times what joining or parting those faces adds, `joined`); the chances
come from the similarity of embeddings and the clarity of faces (faces/chances.py), never from
ground truth. Every answer is a decision (decisions.py), so it is undoable and kept; the queue
is recomputed on the people after the decisions (`regroup`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..faces.chances import p_belongs_not, p_mixed, p_piece, p_same, p_who
from .decisions import Face
from .movie_people import regroup
from .person_runs import apart_from_rest, runs_of, sides, spread
from .questions import Question
from .review_answers import Answers
from .review_data import ReviewData

CANDIDATES = 8  # candidate people of a who-is-this question (digits 1-8)
FACE_WEIGHT = 0.5  # a false detection weighs less than a real face in the wrong place
# The face and belongs curves are fitted over every run; a run the grouping put in a person is
# a face and that person's far more often than they say (the questions asked of hard_a, seed
# 8123 and seed 901: 7 % "no face" where the curve said 38 %, 4 % "not theirs" where it said
# 23 %). Face chances are scaled by about that much; belongs chances by half only, as a run of
# someone else found costs pairwise precision until it is parted (F1 after 50 answers fell on
# three tuning and test movies at 0.2).
IN_PERSON_FACE = 0.2
IN_PERSON_APART = 0.5
# The piece curve is fitted over every low-similarity person; at full weight the blurred
# people who are nobody else came before likelier questions (F1 after 25 answers on seeds 7919
# and 6427: 0.961 -> 0.943, 0.951 -> 0.944); at half they come after them.
PIECE_WEIGHT = 0.5
# "Several people": parting a mixed person in two by its runs' look (complete linkage) finds
# two thirds of what a right parting would (60 of 89 faces' worth of precision on the 27 mixed
# people of nineteen hard movies; average linkage 50), and blurred people who are one look as
# spread as mixed ones; at full weight they came before likelier questions (mean F1 after 25
# answers on the fourteen tuning movies 0.970 -> 0.967; seed 9353 after 50, 0.992 -> 0.971).
MIXED_WEIGHT = 0.5
# A person this likely several people is asked about before an answer joins faces to it: a right
# answer would pair every face it joins with the other person's faces in it.
CHECK_MIXED = 0.05


def joined(a: float, b: float) -> float:
    """What joining (or parting) a faces and b faces of one person adds to the BCubed recall
    (precision) summed over faces: each of the a gains b / (a + b), each of the b a / (a + b).
    Pair counts (a x b) would favour joining two big groups over finding a splinter's home."""
    return 2.0 * a * b / (a + b) if a + b > 0 else 0.0


@dataclass
class Review(Answers):
    """The queue on the people after `decisions` (skipped: keys of questions not to ask)."""

    data: ReviewData
    decisions: list[dict[str, Any]]
    skipped: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # grouped again under every answer so far: one answer settles others
        self.faces, self.outcome = regroup(self.data.db, self.decisions, self.data.grouping)
        self.by_face = {f.id: f for f in self.faces}
        self._index: dict[float, list[Face]] | None = None

    # the questions ---------------------------------------------------------------------------
    def questions(self) -> list[Question]:
        """Every question worth asking, best (most expected gain) first."""
        people, loose = self._groups()
        self._sizes = {p: len(ids) for p, ids in people.items()}
        means = {p: self.data.mean(ids) for p, ids in people.items()}
        frames = {p: {self.data.rows[f].frame_id for f in ids} for p, ids in people.items()}
        # each run's likeness to the rest of its person, and the faces the user confirmed:
        # read by both the same-person and the inside questions
        rest = {p: apart_from_rest(self.data, ids) for p, ids in people.items()}
        confirmed, judged = self._confirmed(), self._judged()
        mixed = self._mixed_chances(people, rest, confirmed, judged)
        found = [*self._same(people, means, frames, mixed, judged),
                 *self._who(loose, means, frames), *self._inside(people, means, rest, confirmed)]
        found = [q for q in found if q.key not in self.skipped]
        return sorted(self._checked_first(found, mixed), key=lambda q: (-q.gain, q.key))

    def _checked_first(self, found: list[Question], mixed: dict[int, float]) -> list[Question]:
        """The questions, a likely mixed person's own question gaining as much as the best
        question that would join faces to it (and a little more: it comes first)."""
        own = {q.key: q for q in found}
        needed: dict[str, float] = {}
        for q in found:
            into = q.person if q.kind == "same" else \
                q.candidates[0][0] if q.kind == "who" and q.candidates else None
            check = own.get(f"whois:{into}")
            if check is not None and mixed.get(into, 0.0) >= CHECK_MIXED:
                needed[check.key] = max(needed.get(check.key, 0.0), q.gain * (1 + 1e-9))
        return [replace(q, gain=max(q.gain, needed[q.key])) if q.key in needed else q
                for q in found]

    def next(self) -> Question | None:
        ranked = self.questions()
        return ranked[0] if ranked else None

    def _apart_pairs(self) -> set[frozenset[int]]:
        """Pairs of people an "apart" decision keeps apart (never asked about again)."""
        pairs: set[frozenset[int]] = set()
        for one, two in self.outcome.apart:
            left = {self.outcome.assignment.get(f) for f in one} - {None}
            right = {self.outcome.assignment.get(f) for f in two} - {None}
            pairs |= {frozenset((a, b)) for a in left for b in right if a != b}
        return pairs

    def _mixed_chances(self, people: dict[int, list[int]],
                       rest: dict[int, list[tuple[list[int], float]]],
                       confirmed: set[tuple[int, int]], judged: set[int]) -> dict[int, float]:
        """Each person's chance of being several people (blurred faces of people the
        recogniser saw alike); 0 for one face, and for a person the user has said who it is
        not or whose every face shown is confirmed."""
        told_one = judged | {p for p, ids in people.items()
                             if all((f, p) in confirmed for f in self.data.clearest(ids))}
        return {p: 0.0 if p in told_one or len(ids) < 2 else
                p_mixed(self.data.clarity_of(ids), spread(rest[p]))
                for p, ids in people.items()}

    def _same(self, people: dict[int, list[int]], means: dict[int, np.ndarray],
              frames: dict[int, set[int]], mixed_chance: dict[int, float], judged: set[int]
              ) -> list[Question]:
        """One question per person about the bigger people it may be: "same person?" where
        there is one such, else "who is this person?" with the likeliest of them (one answer
        settles them all: one of them, none, or several people mixed into one)."""
        order = sorted(people)
        stack = np.stack([means[p] for p in order]) if order else np.zeros((0, 1))
        sims = stack @ stack.T
        out, apart = [], self._apart_pairs()
        for i, small in enumerate(order):
            size = len(people[small])
            found = sorted(((float(sims[i, j]), big) for j, big in enumerate(order)
                            if (len(people[big]), -big) > (size, -small)
                            and frozenset((small, big)) not in apart
                            and not frames[small] & frames[big]), reverse=True)[:CANDIDATES]
            chances, chance, gain = self._merge_chances(people, small, found, small in judged)
            mixed = mixed_chance[small]
            if len(found) == 1 and mixed <= chance:  # "same person?" has no "several" answer
                big = found[0][1]
                out.append(Question(
                    "same", f"same:{min(small, big)}:{max(small, big)}",
                    self.data.clearest(people[big]), big, small,
                    self.data.clearest(people[small]), chance=chance, gain=gain,
                    similarity=found[0][0]))
            elif found or mixed > 0.0:
                if mixed > 0.0:
                    one, two = sides(self.data, people[small])
                    gain += MIXED_WEIGHT * mixed * joined(len(one), len(two))
                out.append(Question(
                    "who", f"whois:{small}", self.data.clearest(people[small]), small,
                    candidates=tuple(chances), chance=min(1.0, chance + mixed), gain=gain,
                    similarity=found[0][0] if found else 0.0))
        return out

    def _merge_chances(self, people: dict[int, list[int]], small: int,
                       found: list[tuple[float, int]], judged: bool
                       ) -> tuple[list[tuple[int, float]], float, float]:
        """The chance that `small` is each of the bigger people found (similarity, person),
        the chance it is one of them, and the expected gain of asking."""
        size = len(people[small])
        chances = [(big, p_same(sim, size)) for sim, big in found]
        total = sum(c for _, c in chances)
        if total > 1.0:  # one of them at most
            chances = [(big, c / total) for big, c in chances]
        chance = min(total, 1.0)
        gain = sum(c * joined(size, len(people[big])) for big, c in chances)
        # a few blurred faces are often part of someone bigger whom the recogniser cannot
        # match at all; asked once (a "no" or a split is the user's word on it), the user
        # picks that person from the whole list
        piece = 0.0 if judged or not found else \
            PIECE_WEIGHT * p_piece(self.data.clarity_of(people[small]), size)
        if piece > chance:
            gain += (piece - chance) * float(np.mean([joined(size, len(people[big]))
                                                      for _, big in found]))
            chance = piece
        return chances, chance, gain

    def _judged(self) -> set[int]:
        """People the user has seen and said who they are not (a "no" about them, "none of
        these", a run split off as someone new): one person, no piece of another."""
        named: set[int] = set()
        for d in self.decisions:
            # an apart's first side is the person asked about; not so "several people"
            if d["op"] == "split" or (d["op"] == "apart" and d["person"] != d["other"]):
                named |= self._ids(d)
        return {p for f in named if (p := self.outcome.assignment.get(f)) is not None}

    def _size(self, person: int) -> int:
        return self._sizes.get(person, 0)

    def _who(self, loose: list[int], means: dict[int, np.ndarray],
             frames: dict[int, set[int]]) -> list[Question]:
        out = []
        sizes = {p: self._size(p) for p in means}
        typical = float(np.median(list(sizes.values()))) if sizes else 0.0
        order = list(means)
        stack = np.stack([means[p] for p in order]) if order else np.zeros((0, 1), np.float32)
        in_frame: dict[int, set[int]] = defaultdict(set)  # frame -> the people in it
        for person, held in frames.items():
            for frame in held:
                in_frame[frame].add(person)
        rejected = self._rejected_means()
        for run in runs_of(self.data, loose):
            busy = set().union(*(in_frame.get(self.data.rows[f].frame_id, ()) for f in run))
            vector = self.data.mean(run)
            sims = stack @ vector if order else np.zeros(0)
            top = [(float(sims[i]), order[i]) for i in np.argsort(-sims, kind="stable")
                   if order[i] not in busy][:CANDIDATES]
            # what the user called no face is a "person" too: a run like it is likely no face
            like_rejected = p_who(float((rejected @ vector).max())) if len(rejected) else 0.0
            real = (1.0 - self.data.nonface(run)) * (1.0 - like_rejected)
            chances = tuple((p, real * p_who(s)) for s, p in top)
            # Any answer but "not a face" changes the grouping: a candidate, or else someone
            # the page lists below them (a person of typical size).
            known = min(real, sum(c for _, c in chances))
            gain = sum(c * joined(len(run), sizes[p]) for p, c in chances) * known / max(
                sum(c for _, c in chances), 1e-12) + (real - known) * joined(len(run), typical)
            out.append(Question(
                "who", f"who:{run[0]}", tuple(run), candidates=chances, chance=real,
                gain=gain, similarity=top[0][0] if top else 0.0))
        return out

    def _rejected_means(self) -> np.ndarray:
        """The mean face of each run the user rejected as no face (one row per run)."""
        rejected = [f for d in self.decisions if d["op"] == "reject" for f in self._ids(d)]
        runs = runs_of(self.data, rejected)
        return np.stack([self.data.mean(r) for r in runs]) if runs else np.zeros((0, 1))

    def _inside(self, people: dict[int, list[int]], means: dict[int, np.ndarray],
                rest: dict[int, list[tuple[list[int], float]]], confirmed: set[tuple[int, int]]
                ) -> list[Question]:
        out = []
        for person, ids in people.items():
            for run, sim in rest[person] or [(r, None) for r in runs_of(self.data, ids)]:
                if all((f, person) in confirmed for f in run):
                    continue
                nonface = IN_PERSON_FACE * self.data.nonface(run)
                mean = self.data.mean(run)
                if sim is not None:  # the run against the rest of its person
                    apart = IN_PERSON_APART * p_belongs_not(sim) * (1.0 - nonface)
                    moved = joined(len(run), len(ids) - len(run))
                    out.append(Question("belongs", f"belongs:{person}:{run[0]}", tuple(run),
                                        person, chance=apart, gain=apart * moved,
                                        similarity=sim))
                out.append(Question("face", f"face:{person}:{run[0]}", tuple(run), person,
                                    chance=nonface,
                                    gain=FACE_WEIGHT * nonface * joined(len(run), len(ids)),
                                    similarity=float(mean @ means[person])))
        return out

    def _confirmed(self) -> set[tuple[int, int]]:
        """(face, person) pairs the user's answers put together: a run given to a person, split
        off as one, or compared in a merge is not asked about again in that person."""
        confirmed: set[tuple[int, int]] = set()
        for d in self.decisions:
            if d["op"] == "assign":
                confirmed |= {(f, int(d["person"])) for f in self._ids(d)}
            elif d["op"] == "split":
                confirmed |= {(f, int(d["new_person"])) for f in self._ids(d)}
            elif d["op"] == "merge":
                compared = self._ids(d) | self._ids({"faces": d.get("other_faces", [])})
                confirmed |= {(f, int(d["person"])) for f in compared}
        return confirmed
