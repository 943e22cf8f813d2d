"""Detection over a movie's samples that does not redo work.

Within a shot, consecutive samples mostly show the same faces. The expensive full detection
(every pass of the backend's `detect`: YuNet at up to `max_side` plus the enlarged pass) runs
where new faces can appear: on every shot's first sample (the frames stage's `cut_distance`)
and, so that no face is missed for long, on at least every `full_every`-th sample. The samples
between two full passes are searched only in windows around faces already found on the sample
before (`detect_windows`: every pass of the full detection, run on those windows only, finds
there what it finds on the whole frame). Faces that a full pass finds and the sample before did
not show are then searched for backwards the same way, so a face that came into view (or out of
blur) between two full passes is found on the samples it is on, not only from the next full
pass on.

Which samples get a full pass depends only on the cut distances and the setting, never on
timing, so the result is the same for every run and thread count. Backends whose detection has
a fixed input (SCRFD letterboxes every call to its 640x640 input, so a window costs a full
pass) say so with `crop_detection = False`; they get a full pass on every sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol, TypeVar

import numpy as np

from ..core.boxes import Box, iou
from ..media.shots import CUT_DISTANCE
from ..media.streaming import bounded_map
from .scrfd import nms
from .types import Detection

T = TypeVar("T")
R = TypeVar("R")
# Boxes overlapping more than this are one face (the detectors' own NMS threshold is 0.3-0.4).
SAME_FACE_IOU = 0.3


class WindowDetector(Protocol):
    crop_detection: bool  # False: a window costs a whole frame (fixed input size)

    def detect(self, image: np.ndarray) -> list[Detection]: ...

    def detect_windows(self, image: np.ndarray,
                       windows: list[tuple[int, int, int, int]]) -> list[Detection]: ...


@dataclass(frozen=True)
class Tracking:
    """How detection spends its passes over a movie's samples (see the module's docstring)."""

    full_every: int = 3  # a full pass at least every this many samples; 1: on every sample
    # The window around a face found on the sample before: its box grown by `margin` face sizes
    # on every side (it turns, it walks) and by `motion` of the frame's long side (the camera
    # pans); measured on hard_c..hard_f with benchmarks/bench_detect_tracking.py.
    margin: float = 0.5
    motion: float = 0.04
    cut: float = CUT_DISTANCE  # cut distance above which a sample starts a shot

    def settings(self) -> dict[str, Any]:
        """What shapes the detections: hashed into the detection stage's code version."""
        return asdict(self) if self.full_every > 1 else {"full_every": 1}


def full_passes(distances: Sequence[float | None], tracking: Tracking) -> list[bool]:
    """Per sample: does it get the full detection? Shot starts and every `full_every`-th
    sample since the last full pass."""
    marks, since = [], 0
    for i, distance in enumerate(distances):
        # No distance (a store from before cuts were measured): the shot may start here.
        full = (i == 0 or distance is None or distance > tracking.cut
                or since + 1 >= tracking.full_every)
        since = 0 if full else since + 1
        marks.append(full)
    return marks


def detect_samples(
    detector: WindowDetector,
    items: Sequence[T],
    distances: Sequence[float | None],
    read: Callable[[T], np.ndarray],
    finish: Callable[[T, np.ndarray, list[Detection]], R],
    tracking: Tracking,
    workers: int = 1,
) -> Iterator[R]:
    """`finish(item, image, detections)` for every sample, in order, with detections made as
    `tracking` says. `read` loads a sample's BGR image; `workers` segments (a full pass and
    the samples up to the next one) are worked on at once, so memory stays flat."""
    if tracking.full_every <= 1 or not detector.crop_detection:
        tracking = replace(tracking, full_every=1)
    marks = full_passes(distances, tracking)
    starts = [i for i, full in enumerate(marks) if full]
    segments = [(start, end, end < len(items) and distances[end] is not None
                 and (distances[end] or 0.0) <= tracking.cut)
                for start, end in zip(starts, [*starts[1:], len(items)], strict=True)]

    def forward(segment: tuple[int, int, bool]) -> _Segment:
        start, end, continues = segment
        images = [read(items[i]) for i in range(start, end)]
        found = [detector.detect(images[0])]
        missed: list[Box] = []
        for image in images[1:]:
            # A face the sample before did not show is looked for once more: hard faces
            # (blurred, dim, turned) come and go between samples.
            boxes = [d.box for d in found[-1]] + missed
            found.append(_search(detector, image, boxes, tracking))
            missed = [b for b in boxes[:len(found[-2])] if not _shown(b, found[-1])]
        return _Segment(start, images, found, continues)

    def backward(pair: tuple[_Segment, list[Detection] | None]) -> list[R]:
        segment, after = pair
        if after:
            segment.search_back(detector, after, tracking)
        return [finish(items[segment.start + k], image, found)
                for k, (image, found) in enumerate(zip(segment.images, segment.found,
                                                       strict=True))]

    done = bounded_map(forward, segments, workers=workers)
    for results in bounded_map(backward, _with_next_full(done), workers=workers,
                               depth=workers):
        yield from results


@dataclass
class _Segment:
    start: int  # index of its full-pass sample
    images: list[np.ndarray]
    found: list[list[Detection]]
    continues: bool  # the next segment's full pass is in the same shot

    def search_back(self, detector: WindowDetector, after: list[Detection],
                    tracking: Tracking) -> None:
        """Faces of the next full pass that the samples before it lack, searched for backwards
        until a sample does not show them (never into the full pass of this segment)."""
        boxes = [d.box for d in after]
        for k in range(len(self.images) - 1, 0, -1):
            boxes = [b for b in boxes if not _shown(b, self.found[k])]
            if not boxes:
                return
            extra = _search(detector, self.images[k], boxes, tracking)
            self.found[k] = _merge(self.found[k] + extra)
            boxes = [d.box for d in extra]


def _with_next_full(segments: Iterator[_Segment]
                    ) -> Iterator[tuple[_Segment, list[Detection] | None]]:
    """Each segment with the full pass of the next one when that is in the same shot."""
    previous = None
    for segment in segments:
        if previous is not None:
            yield previous, segment.found[0] if previous.continues else None
        previous = segment
    if previous is not None:
        yield previous, None


def _search(detector: WindowDetector, image: np.ndarray, boxes: Sequence[Box],
            tracking: Tracking) -> list[Detection]:
    """Faces in windows around `boxes` (faces found on a neighbouring sample)."""
    if not boxes:
        return []
    height, width = image.shape[:2]
    windows = []
    for x, y, w, h in boxes:
        grow = tracking.margin * max(w, h) + tracking.motion * max(width, height)
        windows.append((max(0, int(x - grow)), max(0, int(y - grow)),
                        min(width, int(np.ceil(x + w + grow))),
                        min(height, int(np.ceil(y + h + grow)))))
    return detector.detect_windows(image, windows)


def _shown(box: Box, found: list[Detection]) -> bool:
    return any(iou(box, d.box) >= SAME_FACE_IOU for d in found)


def _merge(found: list[Detection]) -> list[Detection]:
    """One detection per face (the best scoring), best first."""
    if len(found) < 2:
        return found
    corners = np.array([(x, y, x + w, y + h) for x, y, w, h in (d.box for d in found)])
    return [found[i] for i in nms(corners, np.array([d.score for d in found]), SAME_FACE_IOU)]
