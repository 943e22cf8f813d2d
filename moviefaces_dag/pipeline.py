"""The stages of the pipeline as plain functions over the store; Dagster assets wrap them."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from . import layout
from .clustering import ClusterSettings, cluster_embeddings, default_threshold
from .faces.alignment import align_face
from .faces.quality import assess, padded_crop
from .faces.types import FaceAnalyzer
from .progress import LogFn, ProgressReporter
from .report import PersonView, ReportView, Thumbnail, relative_src, render_report
from .store import FaceRow, FrameRow, MovieStore, PersonRow
from .video import MovieError, file_identity, fingerprint_file, probe_movie, sample_frames

JPEG_QUALITY = 90
T = TypeVar("T")
R = TypeVar("R")


def _bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 2) -> Iterator[R]:
    """Ordered map on a thread pool with at most 2 * workers items in flight (flat memory)."""
    with ThreadPoolExecutor(workers) as pool:
        pending: list[Future] = []
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f"could not write {path}")


def _read_image(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"frame image {path} is missing or unreadable; re-run frames")
    return image


# movie ------------------------------------------------------------------------------------------
def identify_movie(store: MovieStore, key: str) -> dict[str, Any]:
    """Probe the registered file; reuse the stored fingerprint while size, mtime and inode hold."""
    row = store.get_movie(key)
    path = Path(row.path)
    info = probe_movie(path)
    size, mtime_ns, inode = file_identity(path)
    if row.fingerprint and (row.size, row.mtime_ns, row.inode) == (size, mtime_ns, inode):
        fingerprint = row.fingerprint
    else:
        fingerprint = fingerprint_file(path)
    fields = {k: v for k, v in asdict(info).items() if k != "path"}
    fields.update(fingerprint=fingerprint, mtime_ns=mtime_ns, inode=inode)
    store.update_movie(key, **fields)
    return {"path": str(path), **fields}


# frames -----------------------------------------------------------------------------------------
def extract_frames(
    store: MovieStore,
    key: str,
    output_dir: Path,
    fps: float,
    duration: float | None,
    progress: ProgressReporter,
    log: LogFn,
) -> dict[str, Any]:
    movie = store.get_movie(key)
    info = probe_movie(Path(movie.path))
    limit = info.duration if duration is None else min(duration, info.duration)
    expected = max(1, math.ceil(limit * fps))
    started = time.monotonic()
    version = layout.new_version_dir(output_dir, key, "frames")
    rows: list[FrameRow] = []
    try:
        def save(frame):
            path = version / f"{frame.index:06d}.jpg"
            _write_jpeg(path, frame.image)
            h, w = frame.image.shape[:2]
            return FrameRow(frame.index, frame.time, str(path), w, h)

        with progress.stage("frames", expected, log) as tick:
            for row in _bounded_map(save, sample_frames(Path(movie.path), fps, duration)):
                rows.append(row)
                tick(1)
        stats = {"frames": len(rows), "seconds": round(time.monotonic() - started, 2),
                 "movie_seconds": round(limit, 2)}
        store.replace_frames(key, rows, {"fps": fps, "duration": duration}, stats)
    except BaseException:
        layout.discard(version)
        raise
    layout.prune_versions(version)
    return stats


# detections -------------------------------------------------------------------------------------
def detect_faces(
    store: MovieStore,
    key: str,
    output_dir: Path,
    analyzer: FaceAnalyzer,
    settings: dict[str, Any],
    progress: ProgressReporter,
    log: LogFn,
) -> dict[str, Any]:
    frames = store.frames(key)
    if not frames:
        raise MovieError(f"movie {key!r} has no sampled frames; materialize frames first")
    started = time.monotonic()
    version = layout.new_version_dir(output_dir, key, "faces")
    faces: list[FaceRow] = []
    try:
        with progress.stage("detect faces", len(frames), log) as tick:
            for frame, image in zip(frames, _bounded_map(_read_image, (f.path for f in frames))):
                for n, det in enumerate(analyzer.detect(image)):
                    quality = assess(image, det.box, det.score, det.landmarks)
                    crop_path = version / f"{frame.idx:06d}_{n:02d}.jpg"
                    _write_jpeg(crop_path, padded_crop(image, det.box))
                    faces.append(FaceRow(
                        frame_id=frame.id, box=det.box, score=det.score,
                        landmarks=tuple(map(tuple, det.landmarks.tolist())),
                        sharpness=quality.sharpness, size=quality.size,
                        frontalness=quality.frontalness, quality=quality.quality,
                        crop_path=str(crop_path),
                    ))
                tick(1)
        stats = {"frames": len(frames), "faces": len(faces),
                 "frames_with_faces": len({f.frame_id for f in faces}),
                 "seconds": round(time.monotonic() - started, 2)}
        store.replace_faces(key, faces, settings, stats)
    except BaseException:
        layout.discard(version)
        raise
    layout.prune_versions(version)
    return stats


# embeddings -------------------------------------------------------------------------------------
def embed_faces(
    store: MovieStore,
    key: str,
    analyzer: FaceAnalyzer,
    settings: dict[str, Any],
    progress: ProgressReporter,
    log: LogFn,
) -> dict[str, Any]:
    started = time.monotonic()
    faces = store.faces(key)
    frames = {f.id: f for f in store.frames(key)}
    by_frame: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        by_frame[face.frame_id].append(face)
    face_ids: list[int] = []
    vectors: list[np.ndarray] = []
    frame_ids = list(by_frame)
    with progress.stage("embed faces", len(faces), log) as tick:
        images = _bounded_map(_read_image, (frames[fid].path for fid in frame_ids))
        for frame_id, image in zip(frame_ids, images):
            group = by_frame[frame_id]
            aligned = [align_face(image, np.asarray(f.landmarks)) for f in group]
            vectors.append(analyzer.embed(aligned))
            face_ids.extend(f.id for f in group)
            tick(len(group))
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
    dim = int(matrix.shape[1]) if len(matrix) else 0
    stats = {"faces": len(face_ids), "dimension": dim, "model": analyzer.recognizer_id,
             "seconds": round(time.monotonic() - started, 2)}
    store.set_embeddings(key, face_ids, matrix.reshape(len(face_ids), dim),
                         analyzer.recognizer_id, settings, stats)
    return stats


# clusters ---------------------------------------------------------------------------------------
def cluster_faces(store: MovieStore, key: str, settings: ClusterSettings) -> dict[str, Any]:
    started = time.monotonic()
    face_ids, matrix, model_id = store.embeddings(key)
    faces = {f.id: f for f in store.faces(key)}
    frame_ids = np.array([faces[fid].frame_id for fid in face_ids], dtype=np.int64)
    labels = cluster_embeddings(matrix, frame_ids, settings, model_id)
    members: dict[int, list[FaceRow]] = defaultdict(list)
    for fid, label in zip(face_ids, labels):
        if label >= 0:
            members[int(label)].append(faces[fid])
    people = [
        PersonRow(
            person_id=label + 1,
            face_count=len(group),
            first_seen=min(f.time for f in group),
            last_seen=max(f.time for f in group),
            best_face_id=max(group, key=lambda f: f.quality).id,
        )
        for label, group in sorted(members.items())
    ]
    assignments = {fid: (int(label) + 1 if label >= 0 else None) for fid, label in zip(face_ids, labels)}
    threshold = settings.similarity_threshold or default_threshold(model_id)
    stats = {"faces": len(face_ids), "people": len(people),
             "unassigned": int(np.sum(labels < 0)) if len(labels) else 0,
             "similarity_threshold": threshold,
             "seconds": round(time.monotonic() - started, 2)}
    store.replace_people(key, assignments, people,
                         {**asdict(settings), "similarity_threshold": threshold}, stats)
    return stats


# report -----------------------------------------------------------------------------------------
def write_report(store: MovieStore, key: str, output_dir: Path) -> dict[str, Any]:
    movie = store.get_movie(key)
    runs = store.stage_runs(key)
    faces = store.faces(key)
    path = layout.report_path(output_dir, key)
    by_person: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        if face.person_id is not None:
            by_person[face.person_id].append(face)
    people = []
    for number, person in enumerate(store.people(key), start=1):
        best = sorted(by_person[person.person_id], key=lambda f: -f.quality)
        people.append(PersonView(
            number=number, face_count=person.face_count,
            first_seen=person.first_seen, last_seen=person.last_seen,
            thumbnails=[Thumbnail(relative_src(f.crop_path, path.parent), f.time, f.quality)
                        for f in best[:8]],
        ))
    frame_settings = runs.get("frames", {}).get("settings", {})
    detect_settings = runs.get("face_detections", {}).get("settings", {})
    view = ReportView(
        title=Path(movie.path).name,
        movie_path=movie.path,
        duration=movie.duration or 0.0,
        resolution=f"{movie.width}x{movie.height}" if movie.width else "unknown",
        fps_sampled=frame_settings.get("fps", 0),
        frames=runs.get("frames", {}).get("stats", {}).get("frames", 0),
        faces=len(faces),
        unassigned=sum(1 for f in faces if f.person_id is None),
        backend=detect_settings.get("models", ""),
        people=people,
        settings={stage: run["settings"] for stage, run in runs.items()},
    )
    render_report(view, path)
    return {"path": str(path), "people": len(people), "faces": len(faces),
            "top_people": [(p.number, p.face_count) for p in people[:10]]}
