"""Clustering quality measures written from their definitions, over two labelings of one item set.

`truth[i]` is the true identity of item i, `predicted[i]` its predicted person or None when it was
left unassigned; an unassigned item counts as a cluster of its own (a singleton).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

Label = Hashable


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def singletons(predicted: Sequence[Label | None]) -> list[Label]:
    """Unassigned (None) items become clusters of their own."""
    return [("unassigned", i) if p is None else ("person", p) for i, p in enumerate(predicted)]


def _cells(truth: Sequence[Label], predicted: Sequence[Label | None]):
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predicted")
    pred = singletons(predicted)
    return Counter(zip(truth, pred, strict=True)), Counter(truth), Counter(pred), len(truth)


def bcubed(truth: Sequence[Label], predicted: Sequence[Label | None]) -> PRF:
    """Per item: precision = share of its predicted cluster with its identity, recall = share of
    its identity in its predicted cluster; both averaged over items (Bagga & Baldwin 1998)."""
    cells, by_true, by_pred, n = _cells(truth, predicted)
    if n == 0:
        return PRF(1.0, 1.0, 1.0)
    precision = sum(c * c / by_pred[k] for (_, k), c in cells.items()) / n
    recall = sum(c * c / by_true[t] for (t, _), c in cells.items()) / n
    return PRF(precision, recall, _f1(precision, recall))


def pair_count(count: int) -> int:
    return count * (count - 1) // 2


def pairwise(truth: Sequence[Label], predicted: Sequence[Label | None]) -> PRF:
    """Over all pairs of items: precision = same-identity pairs among pairs put together,
    recall = pairs put together among same-identity pairs (1.0 where there is no pair)."""
    cells, by_true, by_pred, _ = _cells(truth, predicted)
    together = sum(pair_count(c) for c in by_pred.values())
    same = sum(pair_count(c) for c in by_true.values())
    correct = sum(pair_count(c) for c in cells.values())
    precision = correct / together if together else 1.0
    recall = correct / same if same else 1.0
    return PRF(precision, recall, _f1(precision, recall))


def _entropy(counts: Counter, n: int) -> float:
    return -sum(c / n * math.log(c / n) for c in counts.values() if c)


def nmi(truth: Sequence[Label], predicted: Sequence[Label | None]) -> float:
    """Mutual information normalised by the arithmetic mean of both entropies (scikit-learn's
    default); 1.0 when both labelings are a single cluster."""
    cells, by_true, by_pred, n = _cells(truth, predicted)
    if n == 0:
        return 1.0
    h_true, h_pred = _entropy(by_true, n), _entropy(by_pred, n)
    if h_true == 0 and h_pred == 0:
        return 1.0
    mutual = sum(c / n * math.log(c * n / (by_true[t] * by_pred[k])) for (t, k), c in cells.items())
    return max(0.0, mutual / ((h_true + h_pred) / 2))


def purity(truth: Sequence[Label], predicted: Sequence[Label | None]) -> float:
    """Share of items whose predicted cluster's majority identity is their own (size-weighted).
    Splitting everything scores 1.0, so read it beside the number of clusters."""
    cells, _, by_pred, n = _cells(truth, predicted)
    if n == 0:
        return 1.0
    best: dict = {}
    for (_, k), c in cells.items():
        best[k] = max(best.get(k, 0), c)
    return sum(best.values()) / n
