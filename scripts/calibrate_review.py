"""Fit the review queue's chances (faces/chances.py) on processed movies with ground
truth: every question the queue would ask of the automatic grouping, with the answer the truth
gives, and a logistic curve per kind of question.

    .venv/bin/python scripts/calibrate_review.py OUTPUT_DIR:MOVIE_KEY:TRUTH.json [...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from moviefaces_dag.evaluation.oracle import Oracle, true_identities
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.chances import p_same
from moviefaces_dag.people.person_runs import apart_from_rest, spread
from moviefaces_dag.people.review import Review
from moviefaces_dag.people.review_data import ReviewData
from moviefaces_dag.store import OutputRoot


def fit(x: np.ndarray, y: np.ndarray) -> tuple[list[float], float]:
    """(weights, bias) of the logistic curve that best predicts y from the rows of x (Newton's
    method, a little ridge)."""
    a = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (y - p) - 1e-3 * w
        hess = -(a.T * (p * (1 - p))) @ a - 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return [round(float(v), 3) for v in w[:-1]], round(float(w[-1]), 3)


def offered(review: Review, data: ReviewData, q) -> tuple[list[int], dict[int, float]]:
    """A same / who-is-person-N question's smaller person (its faces) and the similarity of
    each bigger person offered to it."""
    def faces(person: int | None) -> list[int]:
        return [f for f, p in review.outcome.assignment.items() if p == person]
    small = faces(q.other if q.kind == "same" else q.person)
    bigger = [q.person] if q.kind == "same" else [p for p, _ in q.candidates]
    return small, {p: float(data.mean(small) @ data.mean(faces(p))) for p in bigger}


def samples(spec: str) -> dict[str, list[tuple[tuple[float, ...], float]]]:
    out_dir, key, truth_path = spec.split(":")
    db = OutputRoot(Path(out_dir)).folder(key).published()
    data = ReviewData(db)
    oracle = Oracle(true_identities(list(data.rows.values()), data.frames,
                                    GroundTruth.load(Path(truth_path))),
                    {f: row.frame_id for f, row in data.rows.items()})
    review = Review(data, [])
    found: dict[str, list[tuple[tuple[float, ...], float]]] = {
        "same": [], "whois": [], "who": [], "belongs": [], "face": [], "piece": [],
        "same_size": [], "mixed": []}
    people, _loose = review._groups()
    for ids in people.values():  # every person: are the faces who-is-this shows of several?
        if len(ids) >= 2:
            found["mixed"].append(((data.clarity_of(ids), spread(apart_from_rest(data, ids))),
                                   float(len(oracle.identities(data.clearest(ids))) > 1)))
    for q in review.questions():
        answer = oracle.answer(q, review.outcome)
        if q.kind == "same" or (q.kind == "who" and q.person is not None):
            small, sims = offered(review, data, q)
            for person, similarity in sims.items():  # each bigger person offered: the one?
                found["same_size"].append(((similarity, np.log(max(len(small), 2))),
                                           float(answer in ("yes", str(person)))))
            if sum(p_same(sim, len(small)) for sim in sims.values()) < 0.2:
                # part of someone bigger, whoever (the oracle names people beyond those
                # offered), where the similarity hardly says so
                found["piece"].append(((data.clarity_of(small), np.log(len(small))),
                                       float(answer not in ("no", "new", "nonface"))))
        if q.kind == "same":
            found["same"].append(((q.similarity,), float(answer == "yes")))
        elif q.kind == "who" and q.person is not None:  # one of the people offered?
            found["whois"].append(((q.similarity,), float(answer not in ("new", "nonface"))))
        elif q.kind == "who":
            for person, _chance in q.candidates:  # each candidate: is it the one?
                found["who"].append(((review.candidate_similarity(q, person),),
                                     float(answer == str(person))))
            found["face"].append((data.features(q.faces), float(answer == "nonface")))
        elif q.kind == "belongs":
            found["belongs"].append(((q.similarity,), float(answer == "no")))
        else:
            found["face"].append((data.features(q.faces), float(answer == "no")))
    return found


def main(specs: list[str]) -> None:
    found: dict[str, list[tuple[tuple[float, ...], float]]] = {}
    for spec in specs:
        for kind, rows in samples(spec).items():
            found.setdefault(kind, []).extend(rows)
    for kind, rows in found.items():
        x, y = np.array([r[0] for r in rows], float), np.array([r[1] for r in rows])
        x = np.nan_to_num(x, nan=float(np.nanmedian(x)))
        curve = fit(x, y) if len(rows) > 2 and 0 < y.sum() < len(y) else ([0.0], 0.0)
        print(f"{kind:8s} n={len(rows):5d} positives={int(y.sum()):4d} curve={curve}")


if __name__ == "__main__":
    main(sys.argv[1:])
