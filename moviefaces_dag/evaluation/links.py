"""Scoring the library's links across movies against ground truth: which true identity each
movie person is (the identity most of its faces match), then link precision and recall."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations

from ..store import MovieDB
from ..store.library_db import LibraryPerson
from .matching import match_boxes
from .truth import GroundTruth


def person_identities(db: MovieDB, truth: GroundTruth) -> dict[int, str]:
    """Each person's true identity: the identity most of its faces were matched to."""
    faces_by_frame = defaultdict(list)
    for face in db.faces():
        faces_by_frame[face.frame_id].append(face)
    votes: dict[int, Counter] = defaultdict(Counter)
    for frame in db.frames():
        faces = faces_by_frame.get(frame.id, [])
        true_faces = truth.faces_at(frame.time)
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (f.box for f in faces)]
        for p, t in match_boxes(boxes, [t.box for t in true_faces]):
            if faces[p].person_id is not None:
                votes[faces[p].person_id][true_faces[t].identity] += 1
    return {person: counts.most_common(1)[0][0] for person, counts in votes.items()}


@dataclass(frozen=True)
class LinkScore:
    links: int  # pairs of movie people the library put together
    right: int  # of those, the same true identity
    possible: int  # pairs of movie people of one identity in different movies
    wrong: list[str]
    shared: int  # identities seen in more than one movie
    joined: int  # of those, identities with at least one right link

    @property
    def precision(self) -> float:
        return self.right / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.possible if self.possible else 1.0


def score_links(people: list[LibraryPerson], identity: dict[tuple[str, int], str]) -> LinkScore:
    linked = {frozenset(((a.movie, a.person_id), (b.movie, b.person_id)))
              for p in people for a, b in combinations(p.members, 2)}
    by_identity: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for ref, who in identity.items():
        by_identity[who].append(ref)
    possible = {frozenset((a, b)) for refs in by_identity.values()
                for a, b in combinations(refs, 2) if a[0] != b[0]}
    right = [pair for pair in linked if pair in possible]
    wrong = sorted(" + ".join(f"{m}:{p} ({identity.get((m, p), '?')})" for m, p in sorted(pair))
                   for pair in linked - possible)
    shared = {who for who, refs in by_identity.items() if len({m for m, _ in refs}) > 1}
    joined = {identity[next(iter(pair))] for pair in right}
    return LinkScore(len(linked), len(right), len(possible), wrong, len(shared), len(joined))
