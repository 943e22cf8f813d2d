"""Which people of two movies are the same person: the library's links.

Precision first: two people of different movies, seen by the same recogniser, are linked only
when their good faces' mean embeddings are far closer than the same-person bar within a movie,
each is the other's closest person in the other's movie, and their clearest faces agree too.
Every pair of movies is compared exactly (one small matrix product per pair), so the links
between two movies depend on those two movies alone: a library brought up to date after one
movie changed compares that movie again and keeps the links between the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from .clustering import default_threshold

if TYPE_CHECKING:
    from .library import MoviePerson

# How much closer than within one movie two people of different movies must be: the bar
# within a movie is the recogniser's same-person threshold, which also joins degraded faces.
LINK_MARGIN = 0.25
EXEMPLAR_MARGIN = 0.2

# Links between two movies' people: (similarity, person id in the first, person id in the
# second), the first movie being the one that comes first in the library's order.
PairLinks = list[tuple[float, int, int]]


def pair_links(a: list[MoviePerson], b: list[MoviePerson], ca: np.ndarray, cb: np.ndarray
               ) -> PairLinks:
    """The links between movie a's people and movie b's (`ca`, `cb`: their centroids)."""
    if not a or not b or a[0].model != b[0].model:
        return []
    model = a[0].model
    sims = ca @ cb.T
    rows, cols = np.nonzero(sims >= default_threshold(model) + LINK_MARGIN)
    if not len(rows):
        return []
    best_in_b, best_in_a = sims.argmax(axis=1), sims.argmax(axis=0)
    bar = default_threshold(model) + EXEMPLAR_MARGIN
    return [(float(sims[i, j]), a[i].person_id, b[j].person_id)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
            if best_in_b[i] == j and best_in_a[j] == i and _faces_agree(a[i], b[j], bar)]


def movie_links(movies: list[tuple[str, list[MoviePerson]]],
                kept: dict[tuple[str, str], PairLinks] | None = None
                ) -> dict[tuple[str, str], PairLinks]:
    """The links of every pair of `movies` (key, people; in the library's order) that has any;
    `kept`: links found before for pairs whose movies are both unchanged (their links are
    taken as they are; every pair missing from it is compared)."""
    centroids = {key: np.stack([p.centroid for p in people]) if people else None
                 for key, people in movies}
    found = {}
    # One thread per product: they are small, and BLAS's threads cost ~40x more than they
    # save on a loaded machine (5 ms instead of 0.1 ms per pair of movies).
    with threadpool_limits(1, user_api="blas"):
        _compare(movies, centroids, kept, found)
    return found


def _compare(movies: list[tuple[str, list[MoviePerson]]],
             centroids: dict[str, np.ndarray | None],
             kept: dict[tuple[str, str], PairLinks] | None,
             found: dict[tuple[str, str], PairLinks]) -> None:
    for n, (key_a, a) in enumerate(movies):
        for key_b, b in movies[n + 1:]:
            if kept is not None and (key_a, key_b) in kept:
                links = kept[(key_a, key_b)]
            elif a and b:
                links = pair_links(a, b, centroids[key_a], centroids[key_b])
            else:
                links = []
            if links:
                found[(key_a, key_b)] = links


def ordered_links(people: list[MoviePerson], links: dict[tuple[str, str], PairLinks]
                  ) -> list[tuple[int, int]]:
    """The links as (i, j) indices into `people`, surest first (recogniser by recogniser)."""
    index = {p.ref: n for n, p in enumerate(people)}
    by_model: dict[str, list[tuple[float, int, int]]] = {p.model: [] for p in people}
    for (movie_a, movie_b), pairs in links.items():
        for sim, a, b in pairs:
            i, j = index[(movie_a, a)], index[(movie_b, b)]
            by_model[people[i].model].append((sim, min(i, j), max(i, j)))
    return [(i, j) for found in by_model.values() for _sim, i, j in sorted(found, reverse=True)]


def link_people(people: list[MoviePerson]) -> list[tuple[int, int]]:
    """Links (i, j) between people of different movies who are the same person, surest first."""
    return ordered_links(people, movie_links(list(_by_movie(people))))


def _by_movie(people: list[MoviePerson]) -> Iterable[tuple[str, list[MoviePerson]]]:
    movies: dict[str, list[MoviePerson]] = {}
    for person in people:
        movies.setdefault(person.movie, []).append(person)
    return movies.items()


def _faces_agree(a: MoviePerson, b: MoviePerson, bar: float) -> bool:
    """Each of a's clearest faces finds one of b's at least `bar` alike, for most of them."""
    sims = a.exemplars @ b.exemplars.T
    return _median(sims.max(axis=1)) >= bar and _median(sims.max(axis=0)) >= bar


def _median(values: np.ndarray) -> float:
    # np.median costs ~50 us of checks per call; this runs for every candidate pair.
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float(ordered[middle - 1] + ordered[middle]) / 2
