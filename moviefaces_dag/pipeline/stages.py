"""The stages of the pipeline as plain functions over a movie's draft; Dagster assets wrap them.

Each stage runs while its process is the movie's one writer (`MovieFolder.writing`), reads the
draft, and replaces its own rows in one transaction. Only `publish_report` changes what readers
see.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..core.faults import fault_point
from ..core.progress import LogFn, ProgressReporter
from ..core.words import remake_advice
from ..faces.alignment import align_face
from ..faces.dlib_descriptor import DIMENSION as DLIB_DIMENSION
from ..faces.dlib_descriptor import DLIB_ID, DlibDescriptor
from ..faces.quality import assess, padded_crop
from ..faces.sanity import check_detections, check_embeddings
from ..faces.tracking import Tracking, detect_samples
from ..faces.types import Detection, FaceAnalyzer
from ..media.images import THUMB_QUALITY, read_image, thumbnail, write_jpeg
from ..media.shots import colour_signature, cut_distance
from ..media.sources import MovieSources, plain_sources
from ..media.streaming import batches, bounded_map, prefetch
from ..media.video import (
    Damage,
    MovieError,
    fingerprint_file,
    probe_movie,
    sample_frames,
)
from ..people.clustering import ClusterSettings
from ..people.decisions import Decisions
from ..people.library import (
    library_names,
)
from ..people.movie_people import make_people
from ..report import render_movie_pages
from ..store import Draft, FaceRow, FrameRow, Generation, MovieBusyError, MovieDB, OutputRoot

# Decoded frames waiting for the JPEG writers (about 6 MB each at 1080p).
FRAME_QUEUE = 4
# Faces per recogniser call, gathered across frames.
EMBED_BATCH = 32
# Beside the crops: the small copies the report's pages show (the crop is a click away).
THUMBS = "t"


def stage_token(db: MovieDB, stage: str) -> str:
    """What a stage last wrote, as a Dagster data version: downstream stages are stale exactly
    when it changes."""
    return db.stage_runs()[stage].token


# movie ------------------------------------------------------------------------------------------
def identify_movie(draft: Draft, sources: MovieSources | None = None) -> dict[str, Any]:
    """Probe the registered movie (at its location, media/sources.py; default: a path);
    reuse the stored fingerprint while size, mtime and inode (or ETag) hold."""
    row = draft.db.movie()
    sources = sources or plain_sources()
    identity = sources.identity(row.path)
    if identity is None:
        raise MovieError(f"{row.path}: no such file")
    size, mtime_ns, inode = identity
    with sources.opened(row.path) as path:
        info = probe_movie(path)
        if row.fingerprint and (row.size, row.mtime_ns, row.inode) == identity:
            fingerprint = row.fingerprint
        else:
            fingerprint = fingerprint_file(path)
    # The adjustments are the frames stage's business; the movie row keeps the file's facts.
    fields = {k: v for k, v in asdict(info).items() if k not in ("path", "adjustments")}
    fields.update(fingerprint=fingerprint, size=size, mtime_ns=mtime_ns, inode=inode)
    draft.db.update_movie(**fields)
    fault_point("after:movie")
    return {"path": row.path, **fields}


# frames -----------------------------------------------------------------------------------------
def extract_frames(
    draft: Draft,
    fps: float,
    duration: float | None,
    progress: ProgressReporter,
    log: LogFn,
    sources: MovieSources | None = None,
) -> dict[str, Any]:
    movie = draft.db.movie()
    sources = sources or plain_sources()
    with sources.opened(movie.path) as path:
        return _extract_frames(draft, path, fps, duration, progress, log)


def _extract_frames(draft: Draft, path: Path, fps: float, duration: float | None,
                    progress: ProgressReporter, log: LogFn) -> dict[str, Any]:
    movie = draft.db.movie()
    info = probe_movie(path)
    limit = info.duration if duration is None else min(duration, info.duration)
    # Asked for more than the movie has, every frame is sampled: screen time and the report
    # use the rate in force.
    rate = min(fps, info.fps) if info.fps else fps
    if rate < fps:
        log(f"{movie.path}: sampling every frame, {rate:g} per second: the movie has no more "
            f"(asked for {fps:g})")
    expected = max(1, math.ceil(limit * rate))
    started = time.monotonic()
    rows: list[FrameRow] = []
    damage: list[Damage] = []
    with draft.new_version("frames") as (version, relative):
        def save(frame):
            name = f"{frame.index:06d}.jpg"
            write_jpeg(version / name, frame.image)
            h, w = frame.image.shape[:2]
            return FrameRow(frame.index, frame.time, f"{relative}/{name}", w, h), \
                colour_signature(frame.image)

        with progress.stage("frames", expected, log) as tick:
            # Decoding runs in its own thread while two others encode JPEGs and measure colours
            # for the shot cuts, so no later stage reads the frames again for them.
            decoded = prefetch(sample_frames(path, fps, duration,
                                             on_damage=damage.append), FRAME_QUEUE)
            previous = None
            for row, signature in bounded_map(save, decoded):
                rows.append(replace(row, cut_distance=cut_distance(previous, signature)))
                previous = signature
                tick(1)
                fault_point("during:frames")
        stats = {"frames": len(rows), "seconds": round(time.monotonic() - started, 2),
                 "movie_seconds": round(limit, 2), "display": list(info.adjustments),
                 "rate": rate}
        if damage:
            # What was read is processed; the damage is reported wherever the result is shown.
            stats["damage"] = damage[0].describe(movie.path)
        # What was sampled: the movie's content, the sampling and the display handling. The
        # frames' token derives from it and the instants, so a rerun that samples the same
        # instants keeps the faces and people made from them.
        identity = f"{movie.fingerprint}|{fps}|{duration}|{';'.join(info.adjustments)}"
        draft.db.replace_frames(rows, {"fps": fps, "duration": duration}, stats, identity,
                                relative)
    fault_point("after:frames")
    return stats


# detections -------------------------------------------------------------------------------------
def detect_faces(
    draft: Draft,
    analyzer: FaceAnalyzer,
    settings: dict[str, Any],
    progress: ProgressReporter,
    log: LogFn,
    tracking: Tracking | None = None,
) -> dict[str, Any]:
    """Faces on every sampled frame: full detections where new faces can appear, searches
    around faces already found elsewhere (`tracking`, default Tracking(): faces/tracking.py)."""
    frames = draft.db.frames()
    if not frames:
        raise MovieError(f"movie {draft.folder.key!r} has no sampled frames; "
                         "materialize frames first")
    started = time.monotonic()
    faces: list[FaceRow] = []

    def face_rows(version: tuple[Path, str], frame: FrameRow, image: np.ndarray,
                  detections: list[Detection]) -> list[FaceRow]:
        # Runs in a detector thread: only the rows leave it, never the frame.
        check_detections(detections, analyzer.detector_id, f"frame {frame.idx} "
                         f"({frame.time:.2f} s)")
        rows = []
        for n, det in enumerate(detections):
            quality = assess(image, det.box, det.score, det.landmarks)
            name = f"{frame.idx:06d}_{n:02d}.jpg"
            crop = padded_crop(image, det.box)
            write_jpeg(version[0] / name, crop)
            write_jpeg(version[0] / THUMBS / name, thumbnail(crop), THUMB_QUALITY)
            rows.append(FaceRow(
                frame_id=frame.id, box=det.box, score=det.score,
                landmarks=tuple(map(tuple, det.landmarks.tolist())),
                sharpness=quality.sharpness, size=quality.size,
                frontalness=quality.frontalness, quality=quality.quality,
                crop_path=f"{version[1]}/{name}", thumb_path=f"{version[1]}/{THUMBS}/{name}",
            ))
        return rows

    with draft.new_version("faces") as version:
        (version[0] / THUMBS).mkdir()
        with progress.stage("detect faces", len(frames), log) as tick:
            # As many detector threads as the backend takes calls at once, each on a run of
            # samples from one full pass to the next (it reads their JPEGs itself).
            for rows in detect_samples(analyzer, frames, [f.cut_distance for f in frames],
                                       partial(_read_frame, draft), partial(face_rows, version),
                                       tracking or Tracking(),
                                       workers=max(1, analyzer.concurrency)):
                faces.extend(rows)
                tick(1)
                fault_point("during:face_detections")
        stats = {"frames": len(frames), "faces": len(faces),
                 "frames_with_faces": len({f.frame_id for f in faces}),
                 "seconds": round(time.monotonic() - started, 2)}
        draft.db.replace_faces(faces, settings, stats, version[1])
    fault_point("after:face_detections")
    return stats


def _read_frame(draft: Draft, frame: FrameRow) -> np.ndarray:
    return read_image(str(draft.folder.file(frame.path)), lambda: remake_advice(
        draft.db.movie().path, str(draft.folder.path.parent)))


# embeddings -------------------------------------------------------------------------------------
def embed_faces(
    draft: Draft,
    analyzer: FaceAnalyzer,
    settings: dict[str, Any],
    progress: ProgressReporter,
    log: LogFn,
    second: DlibDescriptor | None = None,
) -> dict[str, Any]:
    """Embed every face with the analyzer's recogniser and, when given, a `second` one (its
    own alignment, from the whole frame); both are stored."""
    started = time.monotonic()
    faces = draft.db.faces()
    frames = {f.id: f for f in draft.db.frames()}
    by_frame: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        by_frame[face.frame_id].append(face)
    face_ids: list[int] = []
    vectors: list[np.ndarray] = []
    others: list[np.ndarray] = []
    # The model's width, or the first batch's when the model leaves it open: every batch must
    # agree.
    width = analyzer.embedding_dimension if analyzer.embedding_dimension > 0 else None

    def aligned_faces(frame_id: int) -> tuple[list[int], list[tuple[np.ndarray, Any]]]:
        # Runs in a reader thread; only the aligned faces leave it, never the whole frame.
        image = _read_frame(draft, frames[frame_id])
        group = by_frame[frame_id]
        chips = second.chips(image, [f.box for f in group]) if second else [None] * len(group)
        return [f.id for f in group], [(align_face(image, np.asarray(f.landmarks)), chip)
                                       for f, chip in zip(group, chips, strict=True)]

    def embed_batch(batch: tuple[list[int], list[tuple[np.ndarray, Any]]]
                    ) -> tuple[list[int], np.ndarray, np.ndarray | None]:
        return (batch[0], analyzer.embed([face for face, _ in batch[1]]),
                second.embed([chip for _, chip in batch[1]]) if second else None)

    with progress.stage("embed faces", len(faces), log) as tick:
        # Aligned faces are small, so the readers may run a whole batch ahead of the recogniser.
        aligned = bounded_map(aligned_faces, by_frame, depth=EMBED_BATCH)
        face_batches = batches(aligned, EMBED_BATCH)
        # One recogniser call at a time: OpenCV's SFace already uses every core for a batch, and
        # each concurrent call would hold another model's buffers (~150 MB at 32 faces).
        for ids, batch_vectors, second_vectors in bounded_map(embed_batch, face_batches,
                                                              workers=1):
            batch_vectors = check_embeddings(batch_vectors, len(ids), analyzer.recognizer_id,
                                             width)
            width = batch_vectors.shape[1]
            face_ids.extend(ids)
            vectors.append(batch_vectors)
            if second_vectors is not None:
                others.append(check_embeddings(second_vectors, len(ids), DLIB_ID, DLIB_DIMENSION))
            tick(len(ids))
            fault_point("during:face_embeddings")
    dim = width or 0
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)
    stats = {"faces": len(face_ids), "dimension": dim, "model": analyzer.recognizer_id,
             "seconds": round(time.monotonic() - started, 2)}
    pair = None
    if second:
        stats["second_model"] = DLIB_ID
        pair = (DLIB_ID, np.concatenate(others) if others else
                np.zeros((0, DLIB_DIMENSION), np.float32))
    draft.db.set_embeddings(face_ids, matrix, analyzer.recognizer_id, settings, stats, pair)
    fault_point("after:face_embeddings")
    return stats


# clusters ---------------------------------------------------------------------------------------
def cluster_faces(db: MovieDB, settings: ClusterSettings,
                  decisions: Decisions | None = None) -> dict[str, Any]:
    """People from the draft's embeddings (`db` is a writer's draft), with the user's
    `decisions` applied and the ids people had before kept."""
    stats = make_people(db, settings, decisions.load() if decisions else [],
                        decisions.digest() if decisions else "")
    fault_point("after:face_clusters")
    return stats


# report -----------------------------------------------------------------------------------------
def publish_report(draft: Draft) -> dict[str, Any]:
    """Publish the draft with its report: readers switch to it in one step."""
    summary: dict[str, Any] = {}

    def render(snapshot: MovieDB, generation) -> None:
        summary.update(_movie_pages(draft, snapshot, generation))

    summary["generation"] = draft.publish(render)
    summary["path"] = str(draft.folder.report_path)
    return summary


def _movie_pages(draft: Draft, snapshot: MovieDB, generation: Generation) -> dict[str, Any]:
    """The movie's pages, its people unnamed in it named after their library person."""
    root, key = OutputRoot(draft.folder.path.parent), draft.folder.key
    names = {pid: name for (movie, pid), name in library_names(root).items() if movie == key}
    return render_movie_pages(snapshot, generation, str(root.path), names)


def follow_move(draft: Draft) -> str | None:
    """After the movie's file was moved or renamed: its published pages again, naming the new
    path (the report's link to the movie opens the file where it is now); the generation
    published, or None when the published result already names the file's path."""
    return draft.republish_moved(partial(_movie_pages, draft))


def show_library_names(root: OutputRoot, keys: list[str]) -> None:
    """The pages of these movies (a library build's `names_changed`) published again, with the
    names their people now take from the library. A movie being written is left to its
    writer, whose report reads the library's names."""
    for key in keys:
        folder = root.folder(key)
        if not folder.exists():
            continue
        try:
            with folder.writing("the library: names") as draft:
                draft.republish(partial(_movie_pages, draft))
        except MovieBusyError:
            pass
