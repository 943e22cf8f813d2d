"""The review queue's answers as decisions: what each answer to each kind of question records
(review.py asks the questions)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .decisions import Face, Outcome, _find, by_time, refs
from .person_runs import along, sides
from .questions import Question
from .review_data import ReviewData


class Answers:
    """What the queue (review.Review) records for an answer, on the people it asked about."""

    data: ReviewData
    decisions: list[dict[str, Any]]
    skipped: set[str]
    faces: list[Face]
    outcome: Outcome
    by_face: dict[int, Face]
    _index: dict[float, list[Face]] | None

    def _groups(self) -> tuple[dict[int, list[int]], list[int]]:
        """Each person's faces, and the faces in no person that the user has not rejected."""
        rejected = {f for d in self.decisions if d["op"] == "reject" for f in self._ids(d)}
        people: dict[int, list[int]] = defaultdict(list)
        loose = []
        for fid in self.data.ids:
            person = self.outcome.assignment.get(fid)
            if person is not None:
                people[person].append(fid)
            elif fid not in rejected:
                loose.append(fid)
        return people, loose

    def _ids(self, decision: dict[str, Any]) -> set[int]:
        """The faces a decision names, by place."""
        if self._index is None:
            self._index = by_time(self.faces)
        return {f.id for f in _find(self.faces, decision.get("faces", []), self._index)[0]}

    def decision(self, question: Question, answer: str) -> dict[str, Any] | None:
        """The decision that records `answer` to `question` (None for skip)."""
        if answer == "skip":
            self.skipped.add(question.key)
            return None
        faces = [self.by_face[f] for f in question.faces]
        if question.kind == "same":
            if answer == "yes":  # the faces compared: a must-link for every regrouping
                return {"op": "merge", "person": question.person, "other": question.other,
                        "faces": refs(faces),
                        "other_faces": refs([self.by_face[f] for f in question.other_faces])}
            if answer == "no":  # the person asked about first, as "who is person N?" has it
                return {"op": "apart", "person": question.other, "other": question.person,
                        "new_person": self.new_person(),
                        "faces": refs(self._shown(question.other)),
                        "other_faces": refs(self._shown(question.person))}
        elif question.kind == "who" and question.person is not None:
            return self._person_decision(question, answer)
        elif question.kind == "who":
            if answer == "nonface":
                return {"op": "reject", "faces": refs(faces)}
            if answer == "new":
                return {"op": "split", "new_person": self.new_person(), "faces": refs(faces)}
            if answer in {str(p) for p in self.choices(question)}:
                into = int(answer)
                drawn = self._along(question.faces, into)
                # the person's faces the run was compared with go in too: the must-link binds
                # the run to the person as the user saw them, not to a unit of its own that a
                # regrouping could leave apart from the rest of that person
                return {"op": "assign", "person": into,
                        "faces": refs(faces + [self.by_face[f] for f in drawn]),
                        "person_faces": refs(self._shown(into))}
        elif answer == "yes":
            return {"op": "assign", "person": question.person, "faces": refs(faces)}
        elif answer == "nonface" and question.kind == "belongs":
            return {"op": "reject", "faces": refs(faces)}
        elif answer == "no":
            if question.kind == "face":
                return {"op": "reject", "faces": refs(faces)}
            return {"op": "split", "person": question.person, "new_person": self.new_person(),
                    "faces": refs(faces)}
        raise ValueError(f"{answer!r} does not answer {question.key} "
                         f"(one of {', '.join(question.answers)})")

    def _person_decision(self, question: Question, answer: str) -> dict[str, Any]:
        """A person is one of the people offered (merge), another person than all of them
        (apart: a cannot-link with each), or no face at all (reject)."""
        person = int(question.person or 0)
        if answer == "nonface":
            return {"op": "reject", "faces": refs(self._all(person))}
        if answer == "several" and "several" in question.answers:
            # parted in two by their faces; each side is then asked about as a person
            one, two = self._sides(person)
            return {"op": "apart", "person": person, "other": person,
                    "new_person": self.new_person(), "faces": refs(one), "other_faces": refs(two)}
        if answer == "new" and not question.candidates:  # one person: the faces confirmed
            return {"op": "assign", "person": person, "faces": refs(self._shown(person))}
        if answer == "new":
            offered = [p for p, _ in question.candidates]
            return {"op": "apart", "person": person, "other": offered[0],
                    "new_person": self.new_person(), "faces": refs(self._shown(person)),
                    "other_faces": refs([f for p in offered for f in self._shown(p)])}
        if answer in {str(p) for p in self.choices(question)}:
            into = int(answer)
            return {"op": "merge", "person": into, "other": person,
                    "faces": refs(self._shown(into)),
                    "other_faces": refs([self.by_face[f] for f in question.faces])}
        raise ValueError(f"{answer!r} does not answer {question.key} "
                         f"(one of {', '.join(question.answers)})")

    def _sides(self, person: int) -> tuple[list[Face], list[Face]]:
        """A person's faces parted in two by look (person_runs.sides): the bigger side first."""
        one, two = sides(self.data, [f.id for f in self._all(person)])
        return [self.by_face[f] for f in one], [self.by_face[f] for f in two]

    def _along(self, run: tuple[int, ...], person: int) -> list[int]:
        """The unassigned faces that go with a run given to `person` (person_runs.along)."""
        taken = {self.by_face[f].frame_id for f, p in self.outcome.assignment.items()
                 if p == person}
        return along(self.data, run, self._groups()[1], taken)

    def choices(self, question: Question) -> list[int]:
        """Who a who-is-this run may be: its candidates first, then every other person not
        in its frames (the page lists them too)."""
        asked = question.faces if question.person is None else \
            [f for f, p in self.outcome.assignment.items() if p == question.person]
        here = {self.by_face[f].frame_id for f in asked}
        busy = {p for f, p in self.outcome.assignment.items()
                if p is not None and self.by_face[f].frame_id in here} | {question.person}
        first = [p for p, _ in question.candidates]
        rest = sorted({p for p in self.outcome.assignment.values() if p is not None} - busy
                      - set(first))
        return first + rest

    def candidate_similarity(self, question: Question, person: int) -> float:
        """Similarity of the question's run to `person`'s mean face."""
        ids = [f for f, p in self.outcome.assignment.items() if p == person]
        return float(self.data.mean(question.faces) @ self.data.mean(ids))

    def _shown(self, person: int | None) -> list[Face]:
        """The faces of a person a question shows: what a "no" judged, so what it keeps apart
        (all of a person's faces would bind a run mixed into it too)."""
        return [self.by_face[f] for f in self.data.clearest([f.id for f in self._all(person)])]

    def _all(self, person: int | None) -> list[Face]:
        return [self.by_face[f] for f, p in self.outcome.assignment.items() if p == person]

    def new_person(self) -> int:
        # never an id any decision names: a merged-away person's id given again would make
        # the earlier merge take the new person's faces when the decisions are replayed
        taken = [int(d[k]) for d in self.decisions for k in ("new_person", "person", "other")
                 if d.get(k) is not None]
        present = [p for p in self.outcome.assignment.values() if p is not None]
        return max([self.data.next_id, *(t + 1 for t in taken), *(p + 1 for p in present)])
