"""The embedded YuNet face detector, with a second pass on an enlarged copy for small faces.

The network runs on onnxruntime from the wheel's int8 file dequantized at load (dequantize.py):
the same detections as OpenCV's `FaceDetectorYN`, about twice as fast. The decoding below is
`FaceDetectorYN`'s (OpenCV's face_detect.cpp): input padded to a multiple of 32, score
sqrt(cls * obj), boxes and landmarks as offsets from each stride's grid.
"""

from __future__ import annotations

import cv2
import numpy as np

from .blobs import planar_blob
from .dequantize import cpu_session, float_model
from .types import Detection

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
YUNET_ID = "yunet-2023mar-int8bq"
STRIDES = (8, 16, 32)
TOP_K = 5000  # candidates kept by NMS, as FaceDetectorYN
GRID = 32  # the coarsest stride: crops starting on it see the frame's own grid
# Pixels of the resized frame around a window that a crop includes, so that what the network
# computes inside the window does not feel the crop's edge (measured: detections in windows
# equal the whole frame's, tests/faces/test_tracking.py).
CONTEXT = 64
Window = tuple[int, int, int, int]  # x0, y0, x1, y1
# A row is x, y, w, h, 5 landmarks (x, y), score: the columns that hold x and y positions.
X_COLUMNS, Y_COLUMNS = [0, 4, 6, 8, 10, 12], [1, 5, 7, 9, 11, 13]


class YuNetDetector:
    """YuNet on a frame scaled to at most `max_side` px, plus a pass on a copy enlarged `upscale`
    times for small faces (the passes' boxes merged by NMS).

    The score threshold is low on purpose: hard faces (dim, blurred, tilted) score 0.5-0.8 and
    the clustering's quality gate keeps low-score detections from starting a person.
    """

    def __init__(self, model_path: str, score_threshold: float = 0.5,
                 nms_threshold: float = 0.3, max_side: int = 1920, min_face_px: float = 16.0,
                 upscale: float = 1.5, threads: int = 1):
        self.model_path = model_path
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.upscale = upscale
        self.min_face_px = min_face_px
        # One session for every thread: onnxruntime runs concurrent calls on one session.
        self._session = cpu_session(float_model(model_path, {2: "height", 3: "width"}), threads)
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def base_scale(self, image: np.ndarray) -> float:
        """The scale of the first pass: the frame's long side down to `max_side`."""
        height, width = image.shape[:2]
        return min(1.0, self.max_side / max(height, width)) if self.max_side else 1.0

    def scales(self, image: np.ndarray) -> list[float]:
        """The passes' scales: the frame's long side down to `max_side`, then enlarged."""
        base = self.base_scale(image)
        return [base] + ([base * self.upscale] if self.upscale > 1.0 else [])

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self._detections([self._detect_at(image, scale) for scale in self.scales(image)])

    def detect_windows(self, image: np.ndarray, windows: list[Window]) -> list[Detection]:
        """What detect() finds in `windows` (x0, y0, x1, y1; a detection belongs to the window
        its centre is in), at a cost in proportion to their area.

        Each pass resizes the frame as detect() does and runs on crops of it that start on the
        network's coarsest grid (32 px) and reach `CONTEXT` px beyond the window: YuNet is
        convolutional, so inside a window it computes what it computes on the whole frame
        (exactly, for faces within CONTEXT px of it; a big box reaching far out may differ).
        """
        passes = []
        for scale in self.scales(image):
            resized = self._resize(image, scale)
            height, width = resized.shape[:2]
            scaled = [tuple(v * scale for v in w) for w in windows]
            rows = []
            for u0, v0, u1, v1 in _merge_rects([_grid_rect(w, width, height) for w in scaled]):
                found = self._run(resized[v0:v1, u0:u1])
                found[:, X_COLUMNS] += u0
                found[:, Y_COLUMNS] += v0
                rows.append(found[_centred_in(found, scaled)])
            if not rows:
                continue
            found = np.concatenate(rows)
            if len(found):
                found = found[self._nms(found)]
            found[:, :14] /= scale
            passes.append(found)
        return self._detections(passes or [np.zeros((0, 15), np.float32)])

    def _detections(self, passes: list[np.ndarray]) -> list[Detection]:
        rows = np.concatenate(passes)
        if len(passes) > 1 and len(rows):
            rows = rows[self._nms(rows)]
        found = []
        for row in rows[np.argsort(-rows[:, 14], kind="stable")]:
            box = tuple(float(v) for v in row[:4])
            if min(box[2], box[3]) < self.min_face_px:
                continue
            landmarks = row[4:14].reshape(5, 2).astype(np.float32)
            found.append(Detection(box=box, score=float(row[14]), landmarks=landmarks))
        return found

    def _nms(self, rows: np.ndarray) -> np.ndarray:
        keep = cv2.dnn.NMSBoxes(rows[:, :4].tolist(), rows[:, 14].tolist(),
                                self.score_threshold, self.nms_threshold, top_k=TOP_K)
        return np.asarray(keep, dtype=np.int64).reshape(-1)

    @staticmethod
    def _resize(image: np.ndarray, scale: float) -> np.ndarray:
        height, width = image.shape[:2]
        return image if scale == 1.0 else cv2.resize(
            image, (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR,
        )

    def _detect_at(self, image: np.ndarray, scale: float) -> np.ndarray:
        """YuNet's rows (box, 5 landmarks, score) on the image resized by `scale`, in the
        original image's pixels."""
        rows = self._run(self._resize(image, scale))
        if len(rows):
            rows = rows[self._nms(rows)]
        rows[:, :14] /= scale
        return rows

    def _run(self, image: np.ndarray) -> np.ndarray:
        """Every candidate above the score threshold, before NMS, in `image`'s pixels."""
        height, width = image.shape[:2]
        padded_w = -(-width // 32) * 32
        # YuNet takes BGR 0..255 as it is, padded to a multiple of 32.
        blob = planar_blob(image, -(-height // 32) * 32, padded_w)
        out = dict(zip(self._outputs, self._session.run(self._outputs, {self._input: blob}),
                       strict=True))
        rows = []
        for stride in STRIDES:
            cls = np.clip(out[f"cls_{stride}"].reshape(-1), 0, 1)
            obj = np.clip(out[f"obj_{stride}"].reshape(-1), 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.flatnonzero(score >= self.score_threshold)
            if not len(keep):
                continue
            r, c = np.divmod(keep, padded_w // stride)
            box = out[f"bbox_{stride}"].reshape(-1, 4)[keep]
            kps = out[f"kps_{stride}"].reshape(-1, 10)[keep]
            w, h = np.exp(box[:, 2]) * stride, np.exp(box[:, 3]) * stride
            cx, cy = (c + box[:, 0]) * stride, (r + box[:, 1]) * stride
            points = np.empty_like(kps)
            points[:, 0::2] = (kps[:, 0::2] + c[:, None]) * stride
            points[:, 1::2] = (kps[:, 1::2] + r[:, None]) * stride
            rows.append(np.column_stack([cx - w / 2, cy - h / 2, w, h, points, score[keep]]))
        if not rows:
            return np.zeros((0, 15), np.float32)
        return np.concatenate(rows).astype(np.float32)

    def close(self) -> None:
        """Nothing to free early: the session goes with the detector."""


def _grid_rect(window: tuple[float, ...], width: int, height: int) -> Window:
    """`window` grown by CONTEXT and out to the 32 px grid, within the image."""
    x0, y0, x1, y1 = window
    return (max(0, int((x0 - CONTEXT) // GRID) * GRID), max(0, int((y0 - CONTEXT) // GRID) * GRID),
            min(width, int(-(-(x1 + CONTEXT) // GRID)) * GRID),
            min(height, int(-(-(y1 + CONTEXT) // GRID)) * GRID))


def _merge_rects(rects: list[Window]) -> list[Window]:
    """Overlapping rectangles joined into their bounding rectangle until none overlap: no
    pixel is run twice in one pass."""
    merged: list[Window] = []
    for rect in rects:
        while True:
            overlapping = [r for r in merged if r[0] < rect[2] and rect[0] < r[2]
                           and r[1] < rect[3] and rect[1] < r[3]]
            if not overlapping:
                break
            for r in overlapping:
                merged.remove(r)
                rect = (min(r[0], rect[0]), min(r[1], rect[1]), max(r[2], rect[2]),
                        max(r[3], rect[3]))
        merged.append(rect)
    return merged


def _centred_in(rows: np.ndarray, windows: list[tuple[float, ...]]) -> np.ndarray:
    """Which rows' box centres lie in one of `windows`."""
    cx, cy = rows[:, 0] + rows[:, 2] / 2, rows[:, 1] + rows[:, 3] / 2
    inside = np.zeros(len(rows), bool)
    for x0, y0, x1, y1 in windows:
        inside |= (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    return inside
