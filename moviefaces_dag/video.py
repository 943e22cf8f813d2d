"""Reading movies: container metadata, content fingerprints and frame sampling.

PyAV (FFmpeg) is used rather than cv2.VideoCapture because it exposes the container's own
metadata and each frame's presentation timestamp, which stays correct for variable frame rate.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

FINGERPRINT_CHUNK = 4 << 20


class MovieError(Exception):
    """A movie cannot be used; the message names the file and says what to do."""


@dataclass(frozen=True)
class MovieInfo:
    path: str
    size: int
    duration: float
    fps: float
    width: int
    height: int
    codec: str
    container: str
    frame_count: int


@dataclass(frozen=True)
class SampledFrame:
    index: int
    time: float
    image: np.ndarray  # BGR uint8


def check_readable_file(path: Path) -> None:
    """Fail with one clear line for the problems that need no decoder to spot."""
    if not path.exists():
        raise MovieError(f"{path}: no such file")
    if path.is_dir():
        raise MovieError(f"{path}: is a directory, not a movie file")
    if path.stat().st_size == 0:
        raise MovieError(f"{path}: file is empty (0 bytes)")


def _open(path: Path) -> av.container.InputContainer:
    check_readable_file(path)
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise MovieError(f"{path}: not a readable video file ({_reason(exc)})") from exc
    if not container.streams.video:
        container.close()
        raise MovieError(f"{path}: the file has no video stream")
    return container


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def probe_movie(path: Path) -> MovieInfo:
    """Read the container's metadata without decoding the whole stream."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        duration = _stream_duration(container, stream)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frame_count = stream.frames or (round(duration * fps) if fps else 0)
        return MovieInfo(
            path=str(path.resolve()),
            size=path.stat().st_size,
            duration=duration,
            fps=fps,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            codec=stream.codec_context.name,
            container=container.format.name,
            frame_count=int(frame_count),
        )


def _stream_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def fingerprint_file(path: Path) -> str:
    """Content hash of every byte of the file (streamed, constant memory)."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(FINGERPRINT_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_identity(path: Path) -> tuple[int, int, int]:
    """(size, mtime_ns, inode): when unchanged, a cached fingerprint is still valid."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ino


def sample_times(fps: float, limit: float) -> Iterator[float]:
    """Sample instants k / fps for k = 0, 1, ... strictly below `limit` seconds."""
    if fps <= 0:
        raise ValueError(f"sampling rate must be positive, got {fps}")
    k = 0
    while (t := k / fps) < limit:
        yield t
        k += 1


def sample_frames(
    path: Path, fps: float, duration: float | None = None, *, require_complete: bool = True
) -> Iterator[SampledFrame]:
    """Decode the movie once and yield the first frame at or after each sample instant.

    Frames that are not sampled are decoded but never converted to pixels. With
    `require_complete`, a stream that ends well before its declared duration raises MovieError
    (a truncated file) after yielding what could be read.
    """
    if fps <= 0:
        raise MovieError(f"{path}: sampling rate must be positive, got {fps}")
    path = Path(path)
    info = probe_movie(path)
    limit = info.duration if duration is None else min(duration, info.duration or duration)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        half_frame = 0.5 / info.fps if info.fps else 0.0
        index, next_t, last_t = 0, 0.0, -1.0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * frame.time_base) - start
                last_t = t
                if duration is not None and t >= duration:
                    break
                if t + half_frame < next_t:
                    continue
                yield SampledFrame(index, round(t, 6), frame.to_ndarray(format="bgr24"))
                index += 1
                next_t = (math.floor(t * fps + 1e-9) + 1) / fps
        except av.FFmpegError as exc:
            raise MovieError(f"{path}: decoding failed at {last_t:.1f}s ({_reason(exc)})") from exc
    if index == 0:
        raise MovieError(f"{path}: no decodable video frames")
    expected_end = limit - max(1.0 / fps, 1.0)
    if require_complete and last_t < expected_end - max(1.0, 0.05 * limit):
        raise MovieError(
            f"{path}: truncated or damaged: frames stop at {last_t:.1f}s of {limit:.1f}s; "
            f"pass --duration {max(last_t, 0):.0f} to process the readable part"
        )
