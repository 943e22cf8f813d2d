"""A question of the review queue (people/review.py): what it asks about, the answers it
takes, its chance of changing the grouping and its expected gain."""

from __future__ import annotations

from dataclasses import dataclass

LIKELY = 0.5  # a question is "likely to fix something" at this chance or more


@dataclass(frozen=True)
class Question:
    kind: str  # same, who, face, belongs
    key: str  # stable identity of the question (skips are remembered by it)
    faces: tuple[int, ...]  # the run asked about, or person's shown faces (same)
    # its person (face, belongs; who: the person asked about, None for an unassigned run) or
    # the first person (same)
    person: int | None = None
    other: int | None = None  # the second person (same)
    other_faces: tuple[int, ...] = ()
    candidates: tuple[tuple[int, float], ...] = ()  # (person, chance) for who
    chance: float = 0.0  # that the answer changes the grouping
    gain: float = 0.0  # expected faces put right
    similarity: float = 0.0

    @property
    def likely(self) -> bool:
        return self.chance >= LIKELY

    @property
    def answers(self) -> tuple[str, ...]:
        if self.kind == "who" and self.person is not None and len(self.faces) > 1:
            return (*(str(p) for p, _ in self.candidates), "new", "several", "nonface", "skip")
        if self.kind == "who":
            return (*(str(p) for p, _ in self.candidates), "new", "nonface", "skip")
        if self.kind == "belongs":
            return ("yes", "no", "nonface", "skip")
        return ("yes", "no", "skip")

    @property
    def new_label(self) -> str:
        """What the "new" answer of a who-is-this question says."""
        if self.person is None:
            return "a new person"
        return "none of these" if self.candidates else "one person"

    def text(self) -> str:
        if self.kind == "same":
            return f"Are person {self.person} and person {self.other} the same person?"
        if self.kind == "who" and self.person is not None and not self.candidates:
            return f"Is person {self.person} one person? (or several people, or no face)"
        if self.kind == "who" and self.person is not None:
            return f"Who is person {self.person}? (one of these, or someone else)"
        if self.kind == "who":
            return f"Who is this? ({len(self.faces)} face(s) of one shot)"
        if self.kind == "face":
            return f"Is this a face? (now person {self.person}'s)"
        return f"Does this belong to person {self.person}? ({len(self.faces)} face(s))"
