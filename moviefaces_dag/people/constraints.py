"""The user's answers as constraints on the grouping: faces the user put in one person are one
person (must-link) and faces the user said are two people never are (cannot-link), in every
later grouping, so that one answer settles others (the clustering groups everything else around
them).

- assign (a face given to a person, or confirmed as theirs, with the person's faces it was
  compared with) and split (faces made a person of their own): those faces are one person with
  the other faces given to that person;
- merge: the two people's confirmed faces (and the faces the user compared, where recorded)
  are one person;
- apart ("no, not the same person"): no face of one side is ever with a face of the other;
- reject: the faces leave every person (and take no part in the grouping).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .decisions import Face, _find, by_time


@dataclass(frozen=True)
class Constraints:
    """Face ids the answers bind: `together` (each set is one person, the person id the
    answers gave it in `people`) and `apart` (pairs of sets never in one person)."""

    together: tuple[frozenset[int], ...] = ()
    apart: tuple[tuple[frozenset[int], frozenset[int]], ...] = ()
    people: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.together or self.apart)

    def rows(self, row_of: dict[int, int]) -> Constraints:
        """The same constraints on row numbers (faces not in `row_of` dropped)."""
        def keep(ids: frozenset[int]) -> frozenset[int]:
            return frozenset(row_of[f] for f in ids if f in row_of)

        kept = [(g, p) for g, p in zip(map(keep, self.together), self.people, strict=True) if g]
        apart = tuple((a, b) for a, b in ((keep(x), keep(y)) for x, y in self.apart) if a and b)
        return Constraints(tuple(g for g, _ in kept), apart, tuple(p for _, p in kept))

    def named(self, labels: dict[int, int]) -> dict[int, int]:
        """Group label -> the person id the answers gave at least half of its faces (`labels`:
        row -> group label), the bigger bound set first: a group that is mostly what the user
        made person 17 is person 17, whatever the clusterer numbered it."""
        sizes = Counter(labels.values())
        found: list[tuple[int, int, int]] = []
        for rows, person in zip(self.together, self.people, strict=True):
            held = Counter(labels[r] for r in rows if r in labels)
            if held:
                label, count = held.most_common(1)[0]
                if 2 * count >= sizes[label]:
                    found.append((count, label, person))
        named: dict[int, int] = {}
        for _count, label, person in sorted(found, reverse=True):
            if label not in named and person not in named.values():
                named[label] = person
        return named


def answer_constraints(decisions: list[dict[str, Any]], faces: list[Face]) -> Constraints:
    """The must-links and cannot-links that `decisions` (in force, in order) make."""
    index = by_time(faces)

    def found(data: list[dict[str, Any]] | None) -> set[int]:
        return {f.id for f in _find(faces, data or [], index)[0]}

    groups: dict[int, set[int]] = {}
    apart: list[tuple[frozenset[int], frozenset[int]]] = []
    for d in decisions:
        op = d.get("op")
        if op in ("assign", "split", "reject"):
            moved = found(d.get("faces")) | found(d.get("person_faces"))
            for group in groups.values():  # a later answer about a face overrides an earlier
                group -= moved
            if op != "reject":
                person = int(d["person"] if op == "assign" else d["new_person"])
                groups.setdefault(person, set()).update(moved)
        elif op == "merge":
            into = groups.setdefault(int(d["person"]), set())
            into |= groups.pop(int(d["other"]), set())
            into |= found(d.get("faces")) | found(d.get("other_faces"))
        elif op == "apart":
            one, two = found(d.get("faces")), found(d.get("other_faces"))
            if one and two:
                apart.append((frozenset(one - two), frozenset(two - one)))
    bound = [(frozenset(g), person) for person, g in groups.items() if g]
    return Constraints(tuple(g for g, _ in bound), tuple(apart), tuple(p for _, p in bound))
