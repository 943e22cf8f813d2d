"""One-to-one matching of predicted face boxes to true faces within a frame."""

from __future__ import annotations

from collections.abc import Sequence

from .truth import Box

MIN_IOU = 0.3


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre_inside(pred: Box, true: Box) -> bool:
    cx, cy = (pred[0] + pred[2]) / 2, (pred[1] + pred[3]) / 2
    return true[0] <= cx <= true[2] and true[1] <= cy <= true[3]


def match_boxes(predicted: Sequence[Box], truth: Sequence[Box]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (pred index, true index), best overlap first; a pair counts when
    IoU >= 0.3 or the predicted box's centre lies inside the true box."""
    candidates = []
    for i, p in enumerate(predicted):
        for j, t in enumerate(truth):
            overlap = iou(p, t)
            if overlap >= MIN_IOU or centre_inside(p, t):
                candidates.append((overlap, i, j))
    pairs, used_p, used_t = [], set(), set()
    for _, i, j in sorted(candidates, reverse=True):
        if i not in used_p and j not in used_t:
            pairs.append((i, j))
            used_p.add(i)
            used_t.add(j)
    return pairs
