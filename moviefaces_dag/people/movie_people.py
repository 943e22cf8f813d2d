"""A movie's people: its faces grouped by the clusterer, with the ids they had before and the
user's decisions applied."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..media.shots import shot_ids
from ..store import FaceRow, FrameRow, MovieDB, PersonRow, StoreError
from .clustering import ClusterSettings, FaceContext, cluster_embeddings
from .constraints import answer_constraints
from .decisions import Face, Outcome, apply_decisions, rejected_places
from .graph import tracklets, unit_rows
from .stability import keep_unreached
from .stable_ids import FacePlaces, keep_ids
from .vectors import grouping_embeddings


def frame_shots(frames: list[FrameRow]) -> np.ndarray:
    """Shot number of each sampled frame, from the cut distances the frames stage stored."""
    if any(f.cut_distance is None for f in frames):
        raise StoreError("the sampled frames predate shot-cut detection: "
                         "re-run the frames stage (or `moviefaces run`) for this movie")
    return shot_ids(f.cut_distance for f in frames)


def detector_family(settings: dict[str, Any]) -> str:
    """'yunet' or 'scrfd' from the detection stage's recorded settings: their scores differ."""
    if settings.get("backend", "opencv") == "opencv" or settings.get("detector_model") == "yunet":
        return "yunet"
    return "scrfd"


def _context(faces: dict[int, FaceRow], face_ids: list[int], frames: list[FrameRow],
             detector: str) -> tuple[np.ndarray, FaceContext]:
    frame_ids = np.array([faces[fid].frame_id for fid in face_ids], dtype=np.int64)
    sample = {f.id: n for n, f in enumerate(frames)}
    shot = dict(zip((f.id for f in frames), frame_shots(frames).tolist(), strict=True))
    return frame_ids, FaceContext(
        quality=np.array([faces[fid].quality for fid in face_ids], dtype=np.float64),
        score=np.array([faces[fid].score for fid in face_ids], dtype=np.float64),
        sample=np.array([sample[f] for f in frame_ids.tolist()], dtype=np.int64),
        shot=np.array([shot[f] for f in frame_ids.tolist()], dtype=np.int64),
        boxes=np.array([faces[fid].box for fid in face_ids], dtype=np.float64).reshape(-1, 4),
        norm=np.array([np.nan if faces[fid].embedding_norm is None else faces[fid].embedding_norm
                       for fid in face_ids], dtype=np.float64),
        detector=detector,
        sharpness=np.array([faces[fid].sharpness for fid in face_ids], dtype=np.float64),
    )


@dataclass(frozen=True)
class GroupingInput:
    """What grouping a movie's faces reads of its store, read once: the embedded faces in
    order, their embeddings, what the video says of each, and the settings to group with."""

    face_ids: list[int]
    matrix: np.ndarray
    model_id: str | None
    frame_ids: np.ndarray
    context: FaceContext
    settings: ClusterSettings
    previous: FacePlaces  # the people the clusterer made last: their ids are kept

    @classmethod
    def read(cls, db: MovieDB, settings: ClusterSettings | None = None,
             again: bool = False) -> GroupingInput:
        """The store's faces; `settings` None: those its published people were grouped with.
        `again`: for grouping them again and again (the review queue), so the faces' tracklets
        are found once, over all detected faces (a face rejected later leaves its track's other
        faces linked)."""
        face_ids, matrix, model_id = grouping_embeddings(db)
        faces = {f.id: f for f in db.faces()}
        runs = db.stage_runs()
        frame_ids, context = _context(faces, face_ids, db.frames(),
                                      detector_family(runs["face_detections"].settings))
        if settings is None:
            settings = recorded_settings(runs["face_clusters"].settings
                                         if "face_clusters" in runs else {})
        if again and len(face_ids):  # the tracklets of all faces, found once
            context = replace(context, tracks=tracklets(
                unit_rows(matrix), frame_ids, context.sample, context.shot, context.boxes))
        return cls(face_ids, matrix, model_id, frame_ids, context, settings,
                   FacePlaces(db.membership()))

    @cached_property
    def automatic(self) -> dict[int, int]:
        """Face id -> its group label (-1: none) as the clusterer groups all faces without
        any answer: where what no answer reaches stays (stability.py)."""
        labels = cluster_embeddings(self.matrix, self.frame_ids, self.settings, self.model_id,
                                    self.context)
        return dict(zip(self.face_ids, labels.tolist(), strict=True))

    def without(self, rejected: set[int]) -> tuple[list[int], np.ndarray, np.ndarray,
                                                   FaceContext]:
        """(face ids, embeddings, frame ids, context) of the faces not in `rejected`."""
        keep = [n for n, fid in enumerate(self.face_ids) if fid not in rejected]
        rows = np.array(keep, dtype=np.int64)
        context = replace(self.context, **{name: value[rows] for name, value
                                           in vars(self.context).items()
                                           if isinstance(value, np.ndarray)})
        return [self.face_ids[n] for n in keep], self.matrix[rows], self.frame_ids[rows], context


def recorded_settings(recorded: dict[str, Any]) -> ClusterSettings:
    """The clustering settings asked for in a stage run's recorded settings (older results:
    the settings in force)."""
    recorded = recorded.get("requested", recorded)
    names = {f.name for f in fields(ClusterSettings)}
    return ClusterSettings(**{k: v for k, v in recorded.items() if k in names})


def group_faces(grouping: GroupingInput, places: list[Face], decisions: list[dict[str, Any]],
                next_id: int) -> dict[int, int | None]:
    """Face id -> person id (None: nobody) as the clusterer groups the faces under the user's
    answers as constraints (constraints.py), before the decisions themselves are applied;
    faces no answer reaches stay as they were grouped without answers (stability.py).
    Ids are kept from the last grouping (`grouping.previous`), as the decisions name them."""
    rejected = rejected_places(decisions, places)  # no faces: they take no part
    face_ids, matrix, frame_ids, context = grouping.without(rejected)
    constraints = answer_constraints(decisions, places).rows(
        {fid: n for n, fid in enumerate(face_ids)})
    labels = cluster_embeddings(matrix, frame_ids, grouping.settings, grouping.model_id, context,
                                constraints)
    if constraints:
        joined = np.zeros(len(face_ids), dtype=bool)
        for rows in constraints.together:
            joined[list(rows)] = True
        reached = joined.copy()
        for rows in (r for pair in constraints.apart for r in pair):
            reached[list(rows)] = True
        labels = keep_unreached(labels, np.array([grouping.automatic[f] for f in face_ids]),
                                reached, joined, frame_ids)
    by_id = {f.id: f for f in places}
    groups: dict[int, list[tuple[float, tuple]]] = defaultdict(list)
    for fid, label in zip(face_ids, labels, strict=True):
        if label >= 0:
            groups[int(label)].append((by_id[fid].time, by_id[fid].box))
    reserved = {int(d["new_person"]) for d in decisions if "new_person" in d}
    named = constraints.named({n: int(label) for n, label in enumerate(labels) if label >= 0})
    ids = keep_ids(groups, grouping.previous, max(next_id, max(reserved, default=0) + 1),
                   reserved, named)
    return {fid: ids[int(label)] if label >= 0 else None
            for fid, label in zip(face_ids, labels, strict=True)}


def make_people(db: MovieDB, settings: ClusterSettings, decisions: list[dict[str, Any]],
                decisions_digest: str = "") -> dict[str, Any]:
    """Group the draft's embedded faces into people and store them; return the stage's stats."""
    started = time.monotonic()
    faces = {f.id: f for f in db.faces()}
    places = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in faces.values()]
    grouping = GroupingInput.read(db, settings)
    assignment = group_faces(grouping, places, decisions, db.next_person_id())
    outcome = apply_decisions(decisions, places, assignment)
    members: dict[int, list[FaceRow]] = defaultdict(list)
    for fid, person in outcome.assignment.items():
        if person is not None:
            members[person].append(faces[fid])
    people = [PersonRow(person_id=person, face_count=len(group),
                        first_seen=min(f.time for f in group), last_seen=max(f.time for f in group),
                        best_face_id=outcome.portraits.get(person)
                        or max(group, key=lambda f: f.quality).id,
                        hidden=person in outcome.hidden)
              for person, group in sorted(members.items())]
    in_force = settings.resolved(grouping.model_id, grouping.context.detector)
    stats = {"faces": len(faces), "people": len(people),
             "unassigned": sum(1 for p in outcome.assignment.values() if p is None)
             + len(faces) - len(outcome.assignment),
             "similarity_threshold": in_force.similarity_threshold,
             "decisions": len(decisions), "stale_decisions": outcome.stale,
             "seconds": round(time.monotonic() - started, 2)}
    grouped = {fid: person for fid, person in assignment.items() if person is not None}
    db.replace_people(outcome.assignment, people,
                      # what was asked for too: a decision regroups with the same settings
                      {**asdict(in_force), "requested": asdict(settings),
                       "decisions": decisions_digest}, stats, outcome.names,
                      grouped)
    return stats


def regroup(db: Any, decisions: list[dict[str, Any]], grouping: GroupingInput | None = None
            ) -> tuple[list[Face], Outcome]:
    """The faces and the people after `decisions`. With `grouping`, the faces grouped again
    under the answers as constraints (`group_faces`, then the decisions applied: what the
    next `make_people` stores); without, the grouping the clusterer made last with the
    decisions applied (no clustering: milliseconds), as the editor shows them at once while
    the movie is grouped and published again. `db`: a store, or what answers its faces() and
    membership() (and next_person_id() with `grouping`)."""
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in db.faces()]
    if grouping is not None:
        # One BLAS thread: the products are small, and on a loaded machine each threaded one
        # waits for a second core (the review queue regroups after every answer: ~30 % of it).
        with threadpool_limits(1, user_api="blas"):
            assigned = group_faces(grouping, faces, decisions, db.next_person_id())
        return faces, apply_decisions(decisions, faces, assigned)
    return faces, apply_decisions(decisions, faces, _assigned(faces, db.membership()))


def _assigned(faces: list[Face], membership: list[tuple[int, float, tuple]]
              ) -> dict[int, int | None]:
    """Face id -> the person `membership` gives the face at its place."""
    by_place = {_place(f.time, f.box): f.id for f in faces}
    grouped = {by_place[place]: person for person, time, box in membership
               if (place := _place(time, box)) in by_place}
    return {f.id: grouped.get(f.id) for f in faces}


def _place(time: float, box: tuple) -> tuple:
    return round(time, 3), tuple(round(v, 1) for v in box)
