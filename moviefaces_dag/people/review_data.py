"""What the review queue reads of a movie's published result, once: its faces, their unit
embeddings, shots and tracks, and the input of its grouping."""

from __future__ import annotations

import math
import statistics

import numpy as np

from ..faces.chances import p_nonface
from ..store import FaceRow, FrameRow, MovieDB
from .graph import tracklets, unit_rows
from .movie_people import GroupingInput, frame_shots

SHOWN = 6  # faces shown of each person


def unit_vector(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


class ReviewData:
    """What the queue needs of a movie's published result, read once: faces, unit embeddings,
    shots and tracks."""

    def __init__(self, db: MovieDB):
        rows = db.faces()
        face_ids, matrix, _model = db.embeddings()
        self.rows: dict[int, FaceRow] = {f.id: f for f in rows}
        self.ids = [fid for fid in face_ids if fid in self.rows]
        keep = [n for n, fid in enumerate(face_ids) if fid in self.rows]
        self.unit = unit_rows(matrix[keep]) if keep else np.zeros((0, 1), np.float32)
        self.row = {fid: n for n, fid in enumerate(self.ids)}
        frames: list[FrameRow] = db.frames()
        self.frames = frames
        sample = {f.id: n for n, f in enumerate(frames)}
        shot_of = dict(zip((f.id for f in frames), frame_shots(frames).tolist(), strict=True))
        fr = np.array([self.rows[f].frame_id for f in self.ids], dtype=np.int64)
        self.shot = {fid: shot_of[self.rows[fid].frame_id] for fid in self.ids}
        track = tracklets(self.unit, fr, np.array([sample[f] for f in fr.tolist()]),
                          np.array([self.shot[f] for f in self.ids]),
                          np.array([self.rows[f].box for f in self.ids], np.float64).reshape(-1, 4)
                          ) if self.ids else np.zeros(0, np.int64)
        self.track = dict(zip(self.ids, track.tolist(), strict=True))
        self.next_id = db.next_person_id()
        self._membership = db.membership()
        self._nonface: dict[tuple[int, ...], float] = {}
        self.grouping = GroupingInput.read(db, again=True)
        self.db = self  # what `regroup` reads: faces and membership, read once

    def faces(self) -> list[FaceRow]:
        return list(self.rows.values())

    def membership(self) -> list[tuple[int, float, tuple[float, float, float, float]]]:
        return self._membership

    def next_person_id(self) -> int:
        return self.next_id

    def total(self, face_ids: list[int] | tuple[int, ...]) -> np.ndarray:
        """The sum of these faces' unit embeddings."""
        rows = [self.row[f] for f in face_ids if f in self.row]
        return self.unit[rows].sum(axis=0) if rows else np.zeros(self.unit.shape[1], np.float32)

    def mean(self, face_ids: list[int] | tuple[int, ...]) -> np.ndarray:
        return unit_vector(self.total(face_ids))

    def clarity(self, face_id: int) -> float:
        norm = self.rows[face_id].embedding_norm
        return float(norm) if norm is not None else float("nan")

    def features(self, face_ids: list[int] | tuple[int, ...]) -> tuple[float, float]:
        """What says whether a run is a face: its median embedding length and detector score."""
        return (self.clarity_of(face_ids), statistics.median(self.rows[f].score for f in face_ids))

    def clarity_of(self, face_ids: list[int] | tuple[int, ...]) -> float:
        """How clearly the recogniser saw these faces: their median embedding length."""
        norms = [n for n in (self.clarity(f) for f in face_ids) if not math.isnan(n)]
        return statistics.median(norms) if norms else float("nan")

    def nonface(self, face_ids: list[int] | tuple[int, ...]) -> float:
        """The chance that these faces (a run) are no face; runs stay, so it is kept."""
        key = tuple(face_ids)
        if key not in self._nonface:
            self._nonface[key] = p_nonface(*self.features(face_ids))
        return self._nonface[key]

    def clearest(self, face_ids: list[int], count: int = SHOWN) -> tuple[int, ...]:
        """`count` clear faces, one per track first."""
        ranked = sorted(face_ids, key=lambda f: -self.rows[f].quality)
        seen: set[int] = set()
        first = [f for f in ranked if self.track.get(f) not in seen
                 and not seen.add(self.track.get(f))]
        return tuple((first + [f for f in ranked if f not in first])[:count])
