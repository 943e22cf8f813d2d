"""Answers to the review queue's questions from ground truth: what a careful person would
answer, for benchmarks only (the queue never sees it)."""

from __future__ import annotations

from collections import Counter, defaultdict

from ..people.decisions import Outcome
from ..people.questions import Question
from ..store import FaceRow, FrameRow
from .matching import match_boxes
from .scoring import FramePrediction, MovieScore, PredictedFace, score_movie
from .truth import GroundTruth


def true_identities(faces: list[FaceRow], frames: list[FrameRow], truth: GroundTruth
                    ) -> dict[int, str | None]:
    """Each face's true identity (None: no true face there), matched as `moviefaces eval`
    matches them."""
    by_frame: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        by_frame[face.frame_id].append(face)
    out: dict[int, str | None] = {}
    for frame in frames:
        here = by_frame.get(frame.id, [])
        true_faces = truth.faces_at(frame.time)
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (f.box for f in here)]
        pairs = dict(match_boxes(boxes, [t.box for t in true_faces]))
        for i, face in enumerate(here):
            out[face.id] = true_faces[pairs[i]].identity if i in pairs else None
    return out


class Oracle:
    def __init__(self, identity: dict[int, str | None], frame: dict[int, int]):
        self.identity = identity
        self.frame = frame  # face id -> frame id

    def majority(self, face_ids: list[int] | tuple[int, ...]) -> str | None:
        """The identity of more than half of these faces' real faces (None: no such)."""
        found = Counter(self.identity.get(f) for f in face_ids)
        found.pop(None, None)
        if not found:
            return None
        name, count = found.most_common(1)[0]
        return name if 2 * count > sum(found.values()) else None

    def identities(self, face_ids: list[int] | tuple[int, ...]) -> set[str]:
        """The real people among these faces."""
        return {i for f in face_ids if (i := self.identity.get(f)) is not None}

    def real(self, face_ids: list[int] | tuple[int, ...]) -> bool:
        """Whether any of these faces is a real face."""
        return any(self.identity.get(f) is not None for f in face_ids)

    def answer(self, question: Question, outcome: Outcome) -> str:
        members: dict[int, list[int]] = defaultdict(list)
        for face, person in outcome.assignment.items():
            if person is not None:
                members[person].append(face)
        run = self.majority(question.faces)
        if question.kind == "same":
            a, b = self.majority(members[question.person]), self.majority(members[question.other])
            return "yes" if a is not None and a == b else "no"
        if question.kind == "who":
            if question.person is not None and "several" in question.answers \
                    and len(self.identities(question.faces)) > 1:
                return "several"  # the faces shown are of two people or more
            asked = question.faces if question.person is None else members[question.person]
            run = self.majority(asked)  # a person: who most of its faces are
            if run is None:  # no real face, or real faces of several people, none most
                if not self.real(asked):
                    return "nonface"
                return "several" if question.person is not None else "new"
            for person, _chance in question.candidates:
                if self.majority(members[person]) == run:
                    return str(person)
            # not among the candidates: the person of that identity with the most faces, if
            # any may take the run (the page lists everyone else too)
            here = {self.frame[f] for f in asked}
            others = [p for p, ids in members.items() if self.majority(ids) == run
                      and p != question.person and not {self.frame[f] for f in ids} & here]
            return str(max(others, key=lambda p: len(members[p]))) if others else "new"
        if question.kind == "face":
            return "no" if run is None else "yes"
        if run is None:  # belongs: what joined the person is no face (or no one person)
            return "nonface" if not self.real(question.faces) else "no"
        return "yes" if run == self.majority(members[question.person]) else "no"


def score_outcome(faces: list[FaceRow], frames: list[FrameRow], outcome: Outcome,
                  truth: GroundTruth) -> MovieScore:
    """The scores `moviefaces eval` gives the people in `outcome`."""
    by_frame: dict[int, list[PredictedFace]] = defaultdict(list)
    for face in faces:
        by_frame[face.frame_id].append(PredictedFace(face.box, outcome.assignment.get(face.id)))
    return score_movie([FramePrediction(f.time, by_frame.get(f.id, [])) for f in frames], truth)
