"""The static HTML report: every person in the movie, most face images first."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

THUMBNAILS_PER_PERSON = 8


@dataclass(frozen=True)
class Thumbnail:
    src: str  # relative to the report
    time: float
    quality: float


@dataclass(frozen=True)
class PersonView:
    number: int  # 1 = most faces
    face_count: int
    first_seen: float
    last_seen: float
    thumbnails: list[Thumbnail]


@dataclass(frozen=True)
class ReportView:
    title: str
    movie_path: str
    duration: float
    resolution: str
    fps_sampled: float
    frames: int
    faces: int
    unassigned: int
    backend: str
    people: list[PersonView]
    settings: dict = field(default_factory=dict)


def timecode(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("moviefaces_dag", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["timecode"] = timecode
    return env


def relative_src(target: str | Path, report_dir: Path) -> str:
    """A URL path to `target` relative to the report's folder (works from file://)."""
    rel = os.path.relpath(Path(target).resolve(), report_dir.resolve())
    return Path(rel).as_posix()


def render_report(view: ReportView, report_path: Path) -> Path:
    """Write the report atomically: readers never see a half-written page."""
    html = _environment().get_template("movie_report.html.j2").render(report=view)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = report_path.with_name(f".{report_path.name}.tmp-{os.getpid()}")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, report_path)
    return report_path
