"""Person ids that survive re-clustering.

A new grouping of a movie's faces keeps a person's id when it is substantially the same person:
at least half of the new group's faces were that person's, and at least half of that person's
faces are in the group. Faces are recognised by place (frame time and box overlap), so this
holds also after detection or the recogniser were redone. Everyone else gets an id no one in this
movie ever had.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from ..core.boxes import Box, iou

SAME_FACE_IOU = 0.5
SAME_PERSON_SHARE = 0.5


class FacePlaces:
    """Who had the face at a place (frame time, box), from the last people."""

    def __init__(self, membership: list[tuple[int, float, Box]]):
        self.by_time: dict[float, list[tuple[int, Box]]] = defaultdict(list)
        for person, time, box in membership:
            self.by_time[round(time, 3)].append((person, box))
        self.sizes = Counter(person for person, _, _ in membership)
        self._found: dict[tuple[float, Box], int | None] = {}  # a face asked about again

    def person_at(self, time: float, box: Box) -> int | None:
        key = (time, tuple(box))
        if key not in self._found:
            best = max(self.by_time.get(round(time, 3), []), key=lambda pb: iou(pb[1], box),
                       default=None)
            self._found[key] = best[0] if best and iou(best[1], box) >= SAME_FACE_IOU else None
        return self._found[key]


def keep_ids(groups: dict[int, list[tuple[float, Box]]],
             membership: list[tuple[int, float, Box]] | FacePlaces,
             next_id: int, taken: set[int] = frozenset(), named: dict[int, int] | None = None
             ) -> dict[int, int]:
    """A person id for each new group (label -> its faces' places): the id the user's answers
    gave it (`named`), else the old id of the person it substantially is, else a new one from
    `next_id` on (skipping `taken`). `membership`: the last people, or their FacePlaces (kept
    by a caller that regroups often)."""
    places = membership if isinstance(membership, FacePlaces) else FacePlaces(membership)
    old_sizes = places.sizes
    overlaps = []
    for label, faces in groups.items():
        votes = Counter(p for p in (places.person_at(t, box) for t, box in faces) if p is not None)
        for person, count in votes.items():
            if (count >= SAME_PERSON_SHARE * len(faces)
                    and count >= SAME_PERSON_SHARE * old_sizes[person]):
                overlaps.append((count, label, person))
    ids: dict[int, int] = dict(named or {})
    used: set[int] = set(taken) | set(ids.values())
    for _count, label, person in sorted(overlaps, reverse=True):
        if label not in ids and person not in used:
            ids[label] = person
            used.add(person)
    for label in sorted(groups, key=lambda g: -len(groups[g])):
        if label not in ids:
            while next_id in used:
                next_id += 1
            ids[label] = next_id
            used.add(next_id)
    return ids
