"""A movie's people: its faces grouped by the clusterer, with the ids they had before and the
user's decisions applied."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any

import numpy as np

from ..media.shots import shot_ids
from ..store import FaceRow, FrameRow, MovieDB, PersonRow, StoreError
from .clustering import ClusterSettings, FaceContext, cluster_embeddings
from .decisions import Face, Outcome, apply_decisions, rejected_places
from .stable_ids import keep_ids
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


def make_people(db: MovieDB, settings: ClusterSettings, decisions: list[dict[str, Any]],
                decisions_digest: str = "") -> dict[str, Any]:
    """Group the draft's embedded faces into people and store them; return the stage's stats."""
    started = time.monotonic()
    face_ids, matrix, model_id = grouping_embeddings(db)
    faces = {f.id: f for f in db.faces()}
    places = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in faces.values()]
    # Faces the user said are no faces never take part.
    rejected = rejected_places(decisions, places)
    keep = [n for n, fid in enumerate(face_ids) if fid not in rejected]
    face_ids, matrix = [face_ids[n] for n in keep], matrix[keep] if len(keep) else matrix[:0]
    frame_ids, context = _context(faces, face_ids, db.frames(),
                                  detector_family(db.stage_runs()["face_detections"].settings))
    labels = cluster_embeddings(matrix, frame_ids, settings, model_id, context)
    groups: dict[int, list[tuple[float, tuple]]] = defaultdict(list)
    for fid, label in zip(face_ids, labels, strict=True):
        if label >= 0:
            groups[int(label)].append((faces[fid].time, faces[fid].box))
    reserved = {int(d["new_person"]) for d in decisions if "new_person" in d}
    ids = keep_ids(groups, db.membership(), max(db.next_person_id(), max(reserved, default=0) + 1),
                   reserved)
    assignment = {fid: ids[int(label)] if label >= 0 else None
                  for fid, label in zip(face_ids, labels, strict=True)}
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
    in_force = settings.resolved(model_id, context.detector)
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


def regroup(db: MovieDB, decisions: list[dict[str, Any]]) -> tuple[list[Face], Outcome]:
    """The faces and the people after `decisions`, on the grouping the clusterer made last
    (no clustering, no models: milliseconds), as the editor shows them at once while the
    movie is grouped and published again."""
    faces = [Face(f.id, f.frame_id, float(f.time or 0.0), f.box) for f in db.faces()]
    by_place = {_place(f.time, f.box): f.id for f in faces}
    grouped = {by_place[place]: person for person, time, box in db.membership()
               if (place := _place(time, box)) in by_place}
    return faces, apply_decisions(decisions, faces, {f.id: grouped.get(f.id) for f in faces})


def _place(time: float, box: tuple) -> tuple:
    return round(time, 3), tuple(round(v, 1) for v in box)
