"""How numbers read in the report and on the terminal."""

from __future__ import annotations

import shlex


def timecode(seconds: float) -> str:
    """A movie time: '01:15', '1:02:05'."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{minutes}" if hours else minutes


def duration_text(seconds: float) -> str:
    """Screen time for people: '45 s', '3 min 05 s', '1 h 02 min'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 person', '2 people', '0 faces'."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def rate_text(per_second: float) -> str:
    """'1 frame per second', '0.5 frames per second'."""
    return f"{per_second:g} {'frame' if per_second == 1 else 'frames'} per second"


def remake_advice(movie_path: str, output_dir: str) -> str:
    """The command that makes a movie's missing files again (it reruns the stages whose files
    are gone)."""
    return (f"`moviefaces run {shlex.quote(movie_path)} --output-dir {shlex.quote(output_dir)}` "
            "makes it again")
