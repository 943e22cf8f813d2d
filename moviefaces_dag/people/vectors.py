"""The vectors a movie's faces are grouped on, from what the embeddings stage stored."""

from __future__ import annotations

import numpy as np

from ..faces.combination import combined_id, grouping_vectors
from ..store import MovieDB


def grouping_embeddings(db: MovieDB) -> tuple[list[int], np.ndarray, str | None]:
    """(face ids, unit vectors, model id) as clustering takes them: the first recogniser's
    vectors joined by the second's where the movie has both (faces/combination.py)."""
    face_ids, matrix, model_id = db.embeddings()
    second = db.second_embeddings(face_ids)
    if second is None:
        return face_ids, matrix, model_id
    return face_ids, grouping_vectors(matrix, second[0]), combined_id(model_id, second[1])
