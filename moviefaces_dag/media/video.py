"""Reading movies: container metadata, content fingerprints and frame sampling.

PyAV (FFmpeg) is used rather than cv2.VideoCapture because it exposes the container's own
metadata and each frame's presentation timestamp, which stays correct for variable frame rate.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

from ..core.words import timecode

FINGERPRINT_CHUNK = 4 << 20
# Keyframe spacing is estimated from this much of the stream (demuxing only: fast).
KEYFRAME_PROBE_SECONDS = 120.0
# Seek per sample once the gap to the next sample spans this many keyframe intervals.
SEEK_KEYFRAMES = 1.5

Strategy = Literal["auto", "sequential", "seek"]


class MovieError(Exception):
    """A movie cannot be used; the message names the file and says what to do."""


@dataclass(frozen=True)
class MovieInfo:
    path: str
    size: int
    duration: float
    fps: float
    width: int  # as displayed: square pixels, and a phone video shot upright is taller than wide
    height: int
    codec: str
    container: str
    frame_count: int
    # What sampling does to the frames to show them as players do (empty: nothing).
    adjustments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Damage:
    """Where reading a damaged or truncated movie stopped."""

    decoded_until: float  # movie seconds: the last frame that could be read
    length: float  # movie seconds the file declares
    reason: str

    def describe(self, path: str) -> str:
        return (f"{path}: decoded up to {timecode(self.decoded_until)} of "
                f"{timecode(self.length)} ({self.reason}); the rest was not processed")


@dataclass(frozen=True)
class SampledFrame:
    index: int
    time: float
    image: np.ndarray  # BGR uint8, as a player shows it: deinterlaced, square pixels, upright


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


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    """The movie's picture: FFmpeg's pick, which passes over cover art (a one-frame picture
    stream that files from media libraries often carry first)."""
    return container.streams.best("video")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def probe_movie(path: Path) -> MovieInfo:
    """Read the container's metadata, and the first frame for what travels with frames
    (display rotation, interlacing); never the whole stream."""
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container)
        duration = _stream_duration(container, stream)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frame_count = stream.frames or (round(duration * fps) if fps else 0)
        pixel_aspect = _pixel_aspect(stream)
        width, height = _square_size(stream.codec_context.width, stream.codec_context.height,
                                     pixel_aspect)
        first = _first_frame(container, stream)
        if first is not None and _quarter_turns(first) % 2:
            width, height = height, width
        return MovieInfo(
            path=str(path.resolve()),
            size=path.stat().st_size,
            duration=duration,
            fps=fps,
            width=width,
            height=height,
            codec=stream.codec_context.name,
            container=container.format.name,
            frame_count=int(frame_count),
            adjustments=_adjustments(first, pixel_aspect),
        )


def _quarter_turns(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter turns that show the frame upright: phones store portrait video
    sideways with a display rotation, which players (and ffmpeg) apply."""
    return round((frame.rotation or 0) / 90) % 4


def _pixel_aspect(stream: av.VideoStream) -> Fraction:
    """Width of a stored pixel over its height: not 1 for anamorphic video (DVD, SD broadcast)."""
    sar = stream.sample_aspect_ratio
    return Fraction(sar) if sar and sar > 0 else Fraction(1)


def _square_size(width: int, height: int, pixel_aspect: Fraction) -> tuple[int, int]:
    """The frame size with square pixels, stretching one side so that no pixel is lost."""
    if pixel_aspect > 1:
        return round(width * pixel_aspect), height
    return width, round(height / pixel_aspect)


def _displayed(frame: av.VideoFrame, pixel_aspect: Fraction) -> np.ndarray:
    """The frame as a player shows it: one field of an interlaced frame, square pixels (faces in
    anamorphic video are squeezed otherwise), upright."""
    image = frame.to_ndarray(format="bgr24")
    height, width = image.shape[:2]
    if frame.interlaced_frame:
        # The two fields were shot a field apart: woven together, every moving edge (a turning
        # head) is combed. One field, stretched back to full height below, has no combs.
        image = image[::2]
    size = _square_size(width, height, pixel_aspect)
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    turns = _quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _first_frame(container: av.container.InputContainer,
                 stream: av.VideoStream) -> av.VideoFrame | None:
    # Display rotation and interlacing travel with the frames, so they are read off the first
    # one; a stream that cannot be decoded is reported by sampling, with its own message.
    try:
        return next(iter(container.decode(stream)), None)
    except av.FFmpegError:
        return None


def _adjustments(first: av.VideoFrame | None, pixel_aspect: Fraction) -> tuple[str, ...]:
    done = []
    if first is not None and first.interlaced_frame:
        done.append("deinterlaced (one field)")
    if pixel_aspect != 1:
        done.append(f"pixels {pixel_aspect.numerator}:{pixel_aspect.denominator} made square")
    if first is not None and _quarter_turns(first):
        done.append(f"turned {90 * _quarter_turns(first)} degrees counter-clockwise")
    return tuple(done)


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


def keyframe_interval(path: Path, probe_seconds: float = KEYFRAME_PROBE_SECONDS) -> float:
    """Mean spacing (s) of the keyframes in the first `probe_seconds`: demuxed, not decoded.

    Fewer than two keyframes in that span give infinity: seeking cannot help. A damaged stream
    ends the estimate early; decoding is what reports the damage.
    """
    path = Path(path)
    keyframes: list[float] = []
    with _open(path) as container:
        stream = _video_stream(container)
        try:
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                t = float(packet.pts * stream.time_base)
                if packet.is_keyframe:
                    keyframes.append(t)
                if t >= probe_seconds:
                    break
        except av.FFmpegError:
            pass
    if len(keyframes) < 2:
        return math.inf
    return (keyframes[-1] - keyframes[0]) / (len(keyframes) - 1)


def seek_gap(strategy: Strategy, fps: float, keyframe_gap: float | None) -> float:
    """Seek instead of decoding on when the next sample lies at least this far ahead (s).

    A seek lands on the keyframe before the target, so it only saves work when that keyframe is
    past the last decoded frame: with keyframes every k seconds that is likely once the gap to
    the next sample reaches SEEK_KEYFRAMES * k, and then a seek decodes about k / 2 seconds
    instead of the whole gap.
    """
    if strategy == "sequential":
        return math.inf
    if strategy == "seek":
        return 0.0
    if not keyframe_gap or keyframe_gap <= 0:
        return math.inf
    gap = SEEK_KEYFRAMES * keyframe_gap
    return gap if gap <= 1.0 / fps else math.inf


def sample_frames(
    path: Path,
    fps: float,
    duration: float | None = None,
    *,
    on_damage: Callable[[Damage], None] | None = None,
    strategy: Strategy = "auto",
) -> Iterator[SampledFrame]:
    """Yield the first frame at or after each sample instant k / fps, timestamped from the
    container.

    Frames that will not be sampled are never converted to pixels, and non-reference ones are
    not even decoded. `strategy` "auto" decodes sequentially unless keyframes are dense enough
    for a seek per sample to decode less (see `seek_gap`); both give the same frames. A stream
    that fails to decode partway, or ends well before the length the file declares (a truncated
    file), is reported to `on_damage` after yielding what could be read; without `on_damage` it
    raises MovieError. A movie of which no frame decodes always raises.
    """
    if fps <= 0:
        raise MovieError(f"{path}: sampling rate must be positive, got {fps}")
    path = Path(path)
    info = probe_movie(path)
    # Truncated files often declare the shorter length in one place and the whole in another.
    declared = max(info.duration, info.frame_count / info.fps if info.fps else 0.0)
    limit = declared if duration is None else min(duration, declared or duration)
    keyframe_gap = keyframe_interval(path) if strategy == "auto" else None
    jump = seek_gap(strategy, fps, keyframe_gap)
    with _open(path) as container:
        stream = _video_stream(container)
        stream.thread_type = "AUTO"
        pixel_aspect = _pixel_aspect(stream)
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        # A frame within half a frame of a sample instant stands for it (timestamps are rounded).
        half_frame = 0.5 / info.fps if info.fps else 0.0
        cursor = _SampleCursor(fps, half_frame, duration)
        damage = None
        try:
            while not cursor.done:
                if cursor.next_t - cursor.last_t >= jump and cursor.index > 0:
                    target = (cursor.next_t - half_frame + start) / stream.time_base
                    container.seek(math.floor(target), stream=stream, backward=True)
                for frame in _decode_until_jump(container, stream, start, cursor, jump):
                    yield SampledFrame(cursor.index - 1, round(cursor.last_t, 6),
                                       _displayed(frame, pixel_aspect))
        except av.FFmpegError as exc:
            damage = Damage(max(cursor.last_t, 0.0), limit, f"decoding failed: {_reason(exc)}")
    if cursor.index == 0:
        raise MovieError(f"{path}: no decodable video frames"
                         + (f" ({damage.reason})" if damage else ""))
    expected_end = limit - max(1.0 / fps, 1.0)
    if damage is None and cursor.last_t < expected_end - max(1.0, 0.05 * limit):
        damage = Damage(cursor.last_t, limit, "the file ends early: truncated")
    if damage is not None:
        if on_damage is None:
            raise MovieError(damage.describe(str(path)))
        on_damage(damage)


class _SampleCursor:
    """Which sample instant comes next, and how far decoding has got (movie seconds)."""

    def __init__(self, fps: float, half_frame: float, duration: float | None):
        self.fps, self.half_frame, self.duration = fps, half_frame, duration
        self.index, self.next_t, self.last_t, self.done = 0, 0.0, -1.0, False

    def skippable(self, t: float) -> bool:
        """A frame shown at `t` can never be sampled."""
        return t + self.half_frame < self.next_t

    def take(self, t: float) -> bool:
        """Record a decoded frame at `t`; True when it is the next sample."""
        self.last_t = t
        if self.duration is not None and t >= self.duration:
            self.done = True
            return False
        if self.skippable(t):
            return False
        self.index += 1
        self.next_t = (math.floor(t * self.fps + 1e-9) + 1) / self.fps
        return True


def _decode_until_jump(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    start: float,
    cursor: _SampleCursor,
    jump: float,
) -> Iterator[av.VideoFrame]:
    """Decode from the current position; yield the sampled frames; return at the end of the
    stream (setting cursor.done) or as soon as the next sample is `jump` seconds ahead."""
    codec = stream.codec_context
    time_base = stream.time_base
    for packet in container.demux(stream):
        # Non-reference frames before the next sample are never needed: don't decode them.
        far = packet.pts is not None and cursor.skippable(float(packet.pts * time_base) - start)
        codec.skip_frame = "NONREF" if far else "DEFAULT"
        for frame in packet.decode():
            if frame.pts is None:
                continue
            if cursor.take(float(frame.pts * time_base) - start):
                yield frame
                if cursor.next_t - cursor.last_t >= jump:
                    return
            if cursor.done:
                return
    cursor.done = True
