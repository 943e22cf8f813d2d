"""The user's answers as constraints on the grouping: faces the user put in one person are one
person (must-link) and faces the user said are two people never are (cannot-link), in every
later grouping, so that one answer settles others (the clustering groups everything else around
them).

- assign (a face given to a person, or confirmed as theirs) and split (faces made a person of
  their own): those faces are one person with the other faces given to that person;
- merge: the two people's confirmed faces (and the faces the user compared, where recorded)
  are one person;
- apart ("no, not the same person"): no face of one side is ever with a face of the other;
- reject: the faces leave every person (and take no part in the grouping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .decisions import Face, _find, by_time


@dataclass(frozen=True)
class Constraints:
    """Face ids the answers bind: `together` (each set is one person) and `apart` (pairs of
    sets never in one person)."""

    together: tuple[frozenset[int], ...] = ()
    apart: tuple[tuple[frozenset[int], frozenset[int]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.together or self.apart)

    def rows(self, row_of: dict[int, int]) -> Constraints:
        """The same constraints on row numbers (faces not in `row_of` dropped)."""
        def keep(ids: frozenset[int]) -> frozenset[int]:
            return frozenset(row_of[f] for f in ids if f in row_of)

        together = tuple(g for g in map(keep, self.together) if len(g) > 1)
        apart = tuple((a, b) for a, b in ((keep(x), keep(y)) for x, y in self.apart) if a and b)
        return Constraints(together, apart)


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
            moved = found(d.get("faces"))
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
    return Constraints(tuple(frozenset(g) for g in groups.values() if len(g) > 1), tuple(apart))
