"""The vectors a movie's faces are grouped on: the first recogniser's, joined by the second's
where the movie was embedded with both.

dlib's descriptors all point roughly one way (any two faces score a high cosine), so the second
vector is centred on the movie's own mean before it joins: what is left is what tells this
movie's people apart. The joined vector keeps SFace's similarity scale closely enough for its
thresholds to hold (docs/clustering.md, "Two recognisers").
"""

from __future__ import annotations

import numpy as np

from ..faces.types import l2_normalize
from ..store import MovieDB

# The second vector's weight beside the first, both unit length before centring. Chosen on
# hard_a / hard_b from 0.6 (the recogniser study's), 1.0, 1.5, 2.0, 3.0: at 3.0 hard_a's pairwise
# precision falls to 0.943, at 0.6 the joined vector groups as SFace alone does.
SECOND_WEIGHT = 1.5


def combined_id(first: str | None, second: str | None) -> str | None:
    """The id clustering sees: the first model's (its family sets the thresholds) and the
    second's."""
    return first if not second or not first else f"{first}+{second}"


def grouping_vectors(first: np.ndarray, second: np.ndarray | None,
                     weight: float = SECOND_WEIGHT) -> np.ndarray:
    """Unit vectors [first | weight x (second - the movie's mean second)] (first alone when
    there is no second)."""
    first = l2_normalize(first)
    if second is None or not len(first):
        return first
    second = l2_normalize(second)
    return l2_normalize(np.hstack([first, weight * (second - second.mean(axis=0))]))


def grouping_embeddings(db: MovieDB) -> tuple[list[int], np.ndarray, str | None]:
    """(face ids, unit vectors, model id) as clustering takes them, from the stored
    embeddings."""
    face_ids, matrix, model_id = db.embeddings()
    second = db.second_embeddings(face_ids)
    if second is None:
        return face_ids, matrix, model_id
    return face_ids, grouping_vectors(matrix, second[0]), combined_id(model_id, second[1])
