"""A person's runs (its faces of one track, in time order) as the review queue reads them: how
alike each run is to the rest of its person, how the runs part in two by look, and which
unassigned faces go with a run."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from .review_data import ReviewData, unit_vector

# An unassigned face of a shot this similar to a run given to a person goes with it (SFace:
# faces of one person in one shot; different people of one shot stay well under it).
NEAR_IDENTICAL = 0.6


def runs_of(data: ReviewData, face_ids: list[int] | tuple[int, ...]) -> list[list[int]]:
    """These faces grouped by track, each run in time order."""
    runs: dict[int, list[int]] = defaultdict(list)
    for fid in face_ids:
        runs[data.track[fid]].append(fid)
    return [sorted(r, key=lambda f: data.rows[f].time or 0.0) for r in runs.values()]


def apart_from_rest(data: ReviewData, face_ids: list[int]) -> list[tuple[list[int], float]]:
    """Each run of these faces with the similarity of its mean face to the rest's (none for a
    single run)."""
    runs = runs_of(data, face_ids)
    if len(runs) < 2:
        return []
    total = data.total(face_ids)
    return [(run, float(unit_vector(data.total(run)) @ unit_vector(total - data.total(run))))
            for run in runs]


def spread(rest: list[tuple[list[int], float]]) -> float:
    """How alike a person's runs are, from `apart_from_rest`: the mean similarity of each to
    the rest (1: one run)."""
    return float(np.mean([sim for _, sim in rest])) if rest else 1.0


def sides(data: ReviewData, face_ids: list[int]) -> tuple[list[int], list[int]]:
    """These faces (two or more) parted in two, run by run, by their runs' mean faces: the
    bigger side first. Complete linkage: each side's runs all alike, which parts mixed people
    better than average linkage (docs/review.md)."""
    runs = runs_of(data, face_ids)
    if len(runs) < 2:  # one track: its faces one by one
        runs = [[f] for f in runs[0]]
    means = np.stack([data.mean(r) for r in runs]).astype(np.float64)
    side = fcluster(linkage(means, method="complete", metric="cosine"), 2,
                    criterion="maxclust") == 1
    one = [f for i in np.flatnonzero(side) for f in runs[i]]
    two = [f for i in np.flatnonzero(~side) for f in runs[i]]
    return (one, two) if len(one) >= len(two) else (two, one)


def along(data: ReviewData, run: tuple[int, ...], loose: list[int], taken: set[int]
          ) -> list[int]:
    """Unassigned faces (`loose`) of the run's shot near-identical to it (another stretch of
    the same face the tracker lost), in frames neither the run nor its person (`taken`) has,
    one a frame: they go with it."""
    shots = {data.shot[f] for f in run}
    taken = taken | {data.rows[f].frame_id for f in run}
    mean = data.mean(run)
    near = [f for f in loose if data.shot[f] in shots and f not in run
            and data.rows[f].frame_id not in taken
            and float(data.unit[data.row[f]] @ mean) >= NEAR_IDENTICAL]
    drawn, frames = [], set()
    for f in sorted(near, key=lambda f: -float(data.unit[data.row[f]] @ mean)):
        if data.rows[f].frame_id not in frames:  # one face a frame
            drawn.append(f)
            frames.add(data.rows[f].frame_id)
    return drawn
