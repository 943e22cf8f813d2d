"""SCRFD face detection: letterbox in, anchor decoding and NMS out, on any ModelRunner.

SCRFD exports (insightface's det_500m / det_10g and friends) have one image input and, for
strides 8, 16 and 32, a score, a box-distance and a keypoint-distance tensor. Exports name these
tensors differently, so they are told apart by shape: the last dimension says the kind (1 score,
4 box distances, 10 keypoint distances) and the row count says the stride (more rows, finer
stride).
"""

from __future__ import annotations

import cv2
import numpy as np

from .blobs import planar_blob
from .runners import ModelRunner, ModelSpec
from .types import Detection, FaceModelError

STRIDES = (8, 16, 32)
KINDS = {1: "scores", 4: "boxes", 10: "keypoints"}
# insightface's SCRFD preprocessing: RGB, (x - 127.5) / 128.
MEAN, SCALE = 127.5, 1 / 128.0


def image_layout(spec: ModelSpec, role: str) -> str:
    """'NCHW' or 'NHWC' for a model whose single input is a batch of 3-channel images."""
    if len(spec.inputs) != 1:
        raise FaceModelError(f"{role} model {spec.name!r} must have one image input, "
                             f"it has {len(spec.inputs)}")
    shape = spec.inputs[0].shape
    if len(shape) == 4 and shape[1] == 3:
        layout = "NCHW"
    elif len(shape) == 4 and shape[3] == 3:
        layout = "NHWC"
    else:
        raise FaceModelError(f"{role} model {spec.name!r} input {spec.inputs[0].name!r} has "
                             f"shape {list(shape)}; expected a batch of 3-channel images")
    if spec.inputs[0].dtype.kind != "f":
        raise FaceModelError(f"{role} model {spec.name!r} input is {spec.inputs[0].dtype}; "
                             "expected floating point")
    return layout


def spatial_size(spec: ModelSpec, layout: str) -> tuple[int, int]:
    """The input's (height, width); -1 where the model takes any size."""
    shape = spec.inputs[0].shape
    return (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])


class ScrfdDetector:
    def __init__(
        self,
        runner: ModelRunner,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        min_face_px: float = 0.0,
    ):
        width, height = input_size
        if width % 32 or height % 32 or width <= 0 or height <= 0:
            raise FaceModelError(f"detector input size {width}x{height} must be positive "
                                 "multiples of 32")
        spec = runner.spec
        self.layout = image_layout(spec, "detector")
        kinds = sorted(o.shape[-1] for o in spec.outputs if o.shape)
        if kinds != [1, 1, 1, 4, 4, 4, 10, 10, 10] and not (
            len(spec.outputs) == 9 and all(k == -1 for k in kinds)
        ):
            raise FaceModelError(
                f"detector model {spec.name!r} does not look like SCRFD with keypoints: "
                f"expected 9 outputs (scores, boxes and 5 keypoints for strides 8/16/32), "
                f"it has {len(spec.outputs)} with last dimensions {kinds}"
            )
        fixed = spatial_size(spec, self.layout)
        if (fixed[0] > 0 and fixed[0] != height) or (fixed[1] > 0 and fixed[1] != width):
            raise FaceModelError(f"detector model {spec.name!r} takes {fixed[1]}x{fixed[0]} "
                                 f"images; set the detector input size to that, not "
                                 f"{width}x{height}")
        self.runner = runner
        self.input_size = (width, height)
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.min_face_px = min_face_px
        self._dtype = spec.inputs[0].dtype
        self._centers: dict[tuple[int, int], np.ndarray] = {}

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Letterbox a BGR frame into the model's input (padded bottom/right); the scale back."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise FaceModelError(f"detector takes BGR images, got an array of shape "
                                 f"{image.shape}")
        width, height = self.input_size
        h, w = image.shape[:2]
        scale = min(width / w, height / h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        blob = planar_blob(cv2.resize(image, (new_w, new_h)), height, width, MEAN, SCALE,
                           swap_rb=True)
        if self.layout == "NHWC":
            blob = blob.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(blob, dtype=self._dtype), scale

    def decode(self, outputs: list[np.ndarray], scale: float) -> list[Detection]:
        """Detections in frame pixels from the raw outputs of one letterboxed frame."""
        groups = self._group(outputs)
        width, height = self.input_size
        boxes, keypoints, scores = [], [], []
        for stride, (score, dist, kps) in zip(STRIDES, groups, strict=True):
            cells = (height // stride) * (width // stride)
            if len(score) % cells or len(dist) != len(score) or len(kps) != len(score):
                raise FaceModelError(
                    f"detector model {self.runner.spec.name!r} returned {len(score)} scores, "
                    f"{len(dist)} boxes, {len(kps)} keypoint rows at stride {stride}; a "
                    f"{width}x{height} input needs a multiple of {cells} each"
                )
            keep = np.flatnonzero(score[:, 0] >= self.score_threshold)
            if not len(keep):
                continue
            centers = self._anchor_centers(stride, len(score) // cells)[keep]
            d = dist[keep] * stride
            boxes.append(np.concatenate([centers - d[:, :2], centers + d[:, 2:]], axis=1))
            keypoints.append(centers[:, None, :] + kps[keep].reshape(-1, 5, 2) * stride)
            scores.append(score[keep, 0])
        if not scores:
            return []
        all_boxes = np.concatenate(boxes) / scale
        all_kps = np.concatenate(keypoints) / scale
        all_scores = np.concatenate(scores)
        found = []
        for i in nms(all_boxes, all_scores, self.nms_threshold):
            x1, y1, x2, y2 = (float(v) for v in all_boxes[i])
            if min(x2 - x1, y2 - y1) < self.min_face_px:
                continue
            found.append(Detection(box=(x1, y1, x2 - x1, y2 - y1), score=float(all_scores[i]),
                                   landmarks=all_kps[i].astype(np.float32)))
        return found

    def detect(self, image: np.ndarray) -> list[Detection]:
        blob, scale = self.prepare(image)
        return self.decode(self.runner.submit(blob).result(), scale)

    def _group(self, outputs: list[np.ndarray]) -> list[tuple[np.ndarray, ...]]:
        """(scores, boxes, keypoints) per stride, finest first, matched by shape."""
        name = self.runner.spec.name
        by_kind: dict[int, list[np.ndarray]] = {k: [] for k in KINDS}
        for out in outputs:
            out = np.asarray(out)
            if out.ndim == 3 and out.shape[0] == 1:  # exports with a batch dimension
                out = out[0]
            if out.ndim != 2 or out.shape[1] not in KINDS:
                raise FaceModelError(f"detector model {name!r} returned a tensor of shape "
                                     f"{list(out.shape)}; SCRFD outputs are [N,1], [N,4] "
                                     "or [N,10]")
            by_kind[out.shape[1]].append(out.astype(np.float32, copy=False))
        if any(len(v) != len(STRIDES) for v in by_kind.values()):
            counts = {KINDS[k]: len(v) for k, v in by_kind.items()}
            raise FaceModelError(f"detector model {name!r} returned {counts}; SCRFD with "
                                 "keypoints gives 3 of each")
        ordered = [sorted(v, key=len, reverse=True) for v in by_kind.values()]
        return list(zip(*ordered, strict=True))

    def _anchor_centers(self, stride: int, anchors: int) -> np.ndarray:
        key = (stride, anchors)
        if key not in self._centers:
            width, height = self.input_size
            ys, xs = np.mgrid[: height // stride, : width // stride]
            centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            self._centers[key] = np.repeat(centers, anchors, axis=0)
        return self._centers[key]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression on x1,y1,x2,y2 boxes; indices kept, best first."""
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(int(best))
        w = np.maximum(0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        h = np.maximum(0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        inter = w * h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return keep
