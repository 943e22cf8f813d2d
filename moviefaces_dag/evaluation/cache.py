"""A movie's sampled frames, detections and embeddings, computed once per model and kept on disk.

Clustering reruns in seconds, detection takes minutes: comparing clustering settings, quality
formulas and recognisers over many movies needs each model run once per movie. The cache is
independent of the store (the pipeline's own results live there) and keyed by what shapes each
step: the movie's fingerprint and sampling rate for frames, the detector's id (its settings or
its file's sha256) for detections, both models' ids for embeddings. Frames are kept as the JPEGs
the pipeline stores, and detection and embedding read them back as the pipeline does.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..faces import quality as quality_module
from ..faces.alignment import align_face
from ..faces.dlib_descriptor import DIMENSION as DLIB_DIMENSION
from ..faces.dlib_descriptor import DLIB_ID, DlibDescriptor
from ..faces.tracking import Tracking, detect_samples
from ..faces.types import Detection
from ..media.images import read_image, write_jpeg
from ..media.shots import colour_signature, cut_distance, shot_ids
from ..media.video import fingerprint_file, sample_frames
from ..people.clustering import FaceContext
from .scoring import FramePrediction, PredictedFace


class Detector(Protocol):
    def detect(self, image: np.ndarray) -> list[Detection]: ...

    # and, for a Model with tracking on, crop_detection and detect_windows (faces/tracking.py)


class Recognizer(Protocol):
    def embed(self, aligned_faces: list[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class Model:
    """A detector or recogniser with the id that names its cached output."""

    id: str
    load: Callable[[], Detector | Recognizer]
    # Detectors: how the passes are spent over the samples (None: a full pass on each).
    tracking: Tracking | None = None


def file_id(path: Path | str) -> str:
    """Short sha256 of a model file: the cache follows the bytes, not the name."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@dataclass
class CachedMovie:
    """Every detected face of a movie's samples, with its embedding and quality figures."""

    times: np.ndarray  # (frames,) sample instants, seconds
    shots: np.ndarray  # (frames,) shot number per sample
    frame: np.ndarray  # (n,) sample index of each face
    boxes: np.ndarray  # (n, 4) x, y, w, h
    scores: np.ndarray  # (n,)
    landmarks: np.ndarray  # (n, 5, 2)
    embeddings: np.ndarray  # (n, d) raw, as the recogniser gave them
    quality: np.ndarray  # (n,) faces.quality as the current quality module computes it
    sharpness: np.ndarray  # (n,) ... and its sharpness ratio (out-of-focus faces are not clear)
    detector: str = ""  # the detector's id (its score scale sets the score gate)

    @property
    def norms(self) -> np.ndarray:
        return np.linalg.norm(self.embeddings, axis=1).astype(np.float64)

    def context(self) -> FaceContext:
        return FaceContext(quality=self.quality, score=self.scores, sample=self.frame,
                           shot=self.shots[self.frame], boxes=self.boxes, norm=self.norms,
                           detector=self.detector, sharpness=self.sharpness)

    def predictions(self, labels: np.ndarray) -> list[FramePrediction]:
        """The faces of every sample with their person (label -1: none), for score_movie."""
        by_frame: list[list[PredictedFace]] = [[] for _ in self.times]
        for f, box, label in zip(self.frame.tolist(), self.boxes.tolist(), labels.tolist(),
                                 strict=True):
            by_frame[f].append(PredictedFace(tuple(box), None if label < 0 else int(label)))
        return [FramePrediction(float(t), faces) for t, faces in zip(self.times, by_frame,
                                                                      strict=True)]


class MovieCache:
    """The cache folder of one movie at one sampling rate."""

    def __init__(self, root: Path, movie: Path, fps: float = 1.0):
        self.movie = Path(movie)
        self.fps = fps
        self.folder = Path(root) / f"{self.movie.stem}-{fingerprint_file(self.movie)[:12]}-{fps:g}"
        self.folder.mkdir(parents=True, exist_ok=True)

    def frames(self) -> tuple[np.ndarray, np.ndarray, list[Path]]:
        """(times, shot numbers, JPEG paths) of the samples; decoded on first use."""
        index = self.folder / "frames.npz"
        if not index.exists():
            (self.folder / "frames").mkdir(exist_ok=True)
            times, distances, previous = [], [], None
            for frame in sample_frames(self.movie, self.fps):
                write_jpeg(self.folder / "frames" / f"{frame.index:06d}.jpg", frame.image)
                signature = colour_signature(frame.image)
                times.append(frame.time)
                distances.append(cut_distance(previous, signature))
                previous = signature
            np.savez(index, times=np.array(times), distances=np.array(distances))
        data = np.load(index)
        paths = [self.folder / "frames" / f"{i:06d}.jpg" for i in range(len(data["times"]))]
        return data["times"], shot_ids(data["distances"].tolist()), paths

    def detections(self, detector: Model) -> dict[str, np.ndarray]:
        path = self.folder / f"det-{detector.id}.npz"
        if not path.exists():
            _, _, paths = self.frames()
            distances = np.load(self.folder / "frames.npz")["distances"].tolist()
            model = detector.load()
            rows: list[tuple[int, Detection]] = []
            # The pipeline's own way through the samples, as the detection stage runs it.
            found = detect_samples(model, range(len(paths)), distances,
                                   lambda i: read_image(str(paths[i]), "clear the cache"),
                                   lambda i, _image, detections: (i, detections),
                                   detector.tracking or Tracking(full_every=1))
            for i, detections in found:
                rows.extend((i, d) for d in detections)
            np.savez(path, frame=np.array([i for i, _ in rows], dtype=np.int64),
                     boxes=np.array([d.box for _, d in rows], np.float64).reshape(-1, 4),
                     scores=np.array([d.score for _, d in rows], np.float64),
                     landmarks=np.array([d.landmarks for _, d in rows],
                                        np.float64).reshape(-1, 5, 2))
        return dict(np.load(path))

    def embeddings(self, detector: Model, recognizer: Model) -> np.ndarray:
        path = self.folder / f"emb-{detector.id}-{recognizer.id}.npy"
        if not path.exists():
            det = self.detections(detector)
            _, _, paths = self.frames()
            model = recognizer.load()
            aligned = []
            for i in np.unique(det["frame"]):
                image = read_image(str(paths[i]), "clear the cache")
                aligned += [align_face(image, lm) for lm in det["landmarks"][det["frame"] == i]]
            rows = model.embed(aligned) if aligned else np.zeros((0, 1), np.float32)
            np.save(path, np.asarray(rows, np.float32))
        return np.load(path)

    def second_embeddings(self, detector: Model) -> np.ndarray:
        """dlib's descriptor of every detection, from the chip dlib cuts from the frame."""
        path = self.folder / f"emb2-{detector.id}-{DLIB_ID}.npy"
        if not path.exists():
            det = self.detections(detector)
            _, _, paths = self.frames()
            model = DlibDescriptor()
            rows = np.zeros((len(det["frame"]), DLIB_DIMENSION), np.float32)
            for i in np.unique(det["frame"]):
                here = np.flatnonzero(det["frame"] == i)
                image = read_image(str(paths[i]), "clear the cache")
                rows[here] = model.embed(model.chips(image, [tuple(b) for b in
                                                             det["boxes"][here]]))
            np.save(path, rows)
        return np.load(path)

    def quality(self, detector: Model) -> tuple[np.ndarray, np.ndarray]:
        """(faces.quality, sharpness ratio) of every detection, recomputed from the frames when
        quality.py changes (the cache file is keyed by its source)."""
        source = hashlib.sha1(inspect.getsource(quality_module).encode()).hexdigest()[:10]
        path = self.folder / f"quality-{detector.id}-{source}.npz"
        if not path.exists():
            det = self.detections(detector)
            _, _, paths = self.frames()
            values, sharpness = np.zeros(len(det["frame"])), np.zeros(len(det["frame"]))
            for i in np.unique(det["frame"]):
                image = read_image(str(paths[i]), "clear the cache")
                for j in np.flatnonzero(det["frame"] == i):
                    figures = quality_module.assess(image, tuple(det["boxes"][j]),
                                                    float(det["scores"][j]), det["landmarks"][j])
                    values[j], sharpness[j] = figures.quality, figures.sharpness
            np.savez(path, quality=values, sharpness=sharpness)
        data = np.load(path)
        return data["quality"], data["sharpness"]

    def load(self, detector: Model, recognizer: Model) -> CachedMovie:
        times, shots, _ = self.frames()
        det = self.detections(detector)
        quality, sharpness = self.quality(detector)
        return CachedMovie(times=times, shots=shots, frame=det["frame"], boxes=det["boxes"],
                           scores=det["scores"], landmarks=det["landmarks"],
                           embeddings=self.embeddings(detector, recognizer),
                           quality=quality, sharpness=sharpness, detector=detector.id)
