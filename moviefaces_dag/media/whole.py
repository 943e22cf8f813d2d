"""Whether a movie file is whole, not the first part of one still being copied.

The first half of a file whose index comes first (a "faststart" mp4, a Matroska file, an MPEG-TS
stream) opens and probes as a movie, so a folder scan would register it and process half a
film. `check_whole` looks at the container's own structure, reading a few headers, never the
whole file:

- ISO media (mp4, mov, m4v, 3gp): every top-level box lies within the file (a copy cut short
  ends inside its `mdat`, whose size the index's samples need);
- Matroska / WebM: the Segment's declared size lies within the file;
- MPEG-TS: the file ends on a whole 188-byte packet (192 for M2TS);
- AVI: the RIFF size lies within the file;

then for every container the last second decodes and reaches the duration the container
declares (a cut that leaves a consistent structure but misses the end).
"""

from __future__ import annotations

import struct
from pathlib import Path

import av

from .video import MovieError, _open, _stream_duration, _video_stream

ISO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".m4a")
MATROSKA_EXTENSIONS = (".mkv", ".webm", ".mka")
TS_PACKETS = {".ts": 188, ".mpg": None, ".mpeg": None, ".m2ts": 192, ".mts": 192}
# The end must decode up to this close to the declared duration (seconds, or 2 frames).
END_TOLERANCE = 1.0
END_SECONDS = 1.0
SEEK_BACK_SECONDS = (END_SECONDS, 4.0, 16.0, 64.0)


def _incomplete(path: Path, why: str) -> MovieError:
    return MovieError(f"{path}: the file is incomplete ({why}); still being copied? it is "
                      "looked at again when it changes")


def _iso_boxes(path: Path, size: int) -> None:
    """Every top-level box of an ISO media file within the file."""
    with open(path, "rb") as handle:
        offset = 0
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                raise _incomplete(path, f"a box header cut at byte {offset}")
            length, kind = struct.unpack(">I4s", header[:8])
            if length == 1:
                if len(header) < 16:
                    raise _incomplete(path, f"a box header cut at byte {offset}")
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:  # the last box runs to the end of the file
                return
            if length < 8:
                raise MovieError(f"{path}: a damaged box at byte {offset}")
            if offset + length > size:
                name = kind.decode("latin-1", "replace")
                raise _incomplete(path, f"its '{name}' box needs {offset + length} bytes, the "
                                  f"file has {size}")
            offset += length


def _ebml_number(data: bytes, at: int, keep_marker: bool) -> tuple[int, int]:
    """(value, length) of the EBML variable-size number at `at`."""
    first = data[at]
    length = next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 0)
    if not length or at + length > len(data):
        raise ValueError("not an EBML number")
    value = first if keep_marker else first & ((0x80 >> (length - 1)) - 1)
    for byte in data[at + 1:at + length]:
        value = (value << 8) | byte
    return value, length


def _matroska_segment(path: Path, size: int) -> None:
    """The Segment (the whole movie after the EBML header) within the file."""
    with open(path, "rb") as handle:
        data = handle.read(4096)
    try:
        at = 0
        while at < len(data):
            element, id_length = _ebml_number(data, at, keep_marker=True)
            length, size_length = _ebml_number(data, at + id_length, keep_marker=False)
            start = at + id_length + size_length
            if element == 0x18538067:  # Segment
                if length == (1 << (7 * size_length)) - 1:
                    return  # size unknown (a live recording): the end check decides
                if start + length > size:
                    raise _incomplete(path, f"its segment needs {start + length} bytes, the "
                                      f"file has {size}")
                return
            at = start + length
    except (ValueError, IndexError):
        raise MovieError(f"{path}: a damaged Matroska header") from None


def _ts_packets(path: Path, size: int, packet: int) -> None:
    """An MPEG-TS file ends on a whole packet (sync byte 0x47 where the last one starts)."""
    with open(path, "rb") as handle:
        handle.seek(max(0, size - packet))
        last = handle.read(packet)
    sync = packet - 188  # M2TS packets start with a 4-byte time code
    if size % packet or last[sync:sync + 1] != b"\x47":
        raise _incomplete(path, f"it ends inside a {packet}-byte packet")


def _riff(path: Path, size: int) -> None:
    with open(path, "rb") as handle:
        header = handle.read(12)
    if header[:4] == b"RIFF" and struct.unpack("<I", header[4:8])[0] + 8 > size:
        raise _incomplete(path, "its RIFF size is beyond the end of the file")


def _end_decodes(path: Path) -> None:
    """The last second decodes, up to the duration the container declares."""
    with _open(path) as container:
        stream = _video_stream(container)
        duration = _stream_duration(container, stream)
        if duration <= END_SECONDS:
            return
        rate = stream.average_rate or stream.guessed_rate
        tolerance = max(END_TOLERANCE, 2 / float(rate)) if rate else END_TOLERANCE
        reached = None
        for back in SEEK_BACK_SECONDS:  # a stream without an index may land past its last
            reached = _last_frame_time(path, container, stream, duration - back)  # keyframe
            if reached is not None or back >= duration:
                break
        if reached is None or reached < duration - tolerance:
            at = "nothing" if reached is None else f"{reached:.1f} s"
            raise _incomplete(path, f"its last second does not decode: {at} of the "
                              f"{duration:.1f} s it declares")


def _last_frame_time(path: Path, container: av.container.InputContainer,
                     stream: av.VideoStream, at: float) -> float | None:
    """The time of the last frame decoded from the keyframe before `at` (None: none)."""
    base, start = stream.time_base, stream.start_time or 0
    reached = None
    try:
        # At or before the first frame: from byte 0 (MPEG-TS finds nothing at its start time).
        container.seek(start + int(at / base) if at > 0 else 0, stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts is not None:
                reached = float((frame.pts - start) * base)
    except av.FFmpegError as exc:
        raise _incomplete(path, f"its end does not decode: {exc}") from None
    return reached


def check_whole(path: Path) -> None:
    """Raise MovieError (one line) unless the file holds its whole movie (see the module)."""
    path = Path(path)
    size = path.stat().st_size
    suffix = path.suffix.lower()
    with open(path, "rb") as handle:
        magic = handle.read(12)
    if suffix in ISO_EXTENSIONS or magic[4:8] == b"ftyp":
        _iso_boxes(path, size)
    elif suffix in MATROSKA_EXTENSIONS or magic[:4] == b"\x1a\x45\xdf\xa3":
        _matroska_segment(path, size)
    elif TS_PACKETS.get(suffix) or magic[:1] == b"\x47":
        _ts_packets(path, size, TS_PACKETS.get(suffix) or 188)
    elif magic[:4] == b"RIFF":
        _riff(path, size)
    _end_decodes(path)
