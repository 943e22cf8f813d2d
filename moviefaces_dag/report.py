"""The static HTML report: who is in the movie, most face images first.

Per movie `<output>/<movie>/index.html` (people, near-duplicate pairs, unassigned faces), one page
per person with every face, a page of every unassigned face, and `<output>/index.html` listing
every processed movie. Pages only reference files beside them (opens from file://, no network);
every value reaches the HTML through Jinja2's autoescape.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from . import layout
from .store import FaceRow, MovieStore

THUMBNAILS_PER_PERSON = 8
UNASSIGNED_PREVIEW = 48  # the rest are on their own page: the main page stays light
LIBRARY_PEOPLE = 6
# "Possibly the same person": pairs at most this far under the clustering threshold.
NEAR_MARGIN = 0.12
MAX_PAIRS = 12
LIBRARY_NAME = "index.html"
UNASSIGNED_PAGE = "unassigned.html"


@dataclass(frozen=True)
class Thumbnail:
    src: str  # relative to the page's folder
    time: float
    quality: float


@dataclass(frozen=True)
class PersonView:
    number: int  # 1 = most faces
    person_id: int  # the store's id
    face_count: int
    first_seen: float
    last_seen: float
    screen_time: float  # seconds: sampled times on screen / sampling rate
    best: Thumbnail
    thumbnails: list[Thumbnail]  # the best quality ones, in time order
    faces: list[Thumbnail]  # every face, in time order
    marks: list[float]  # each sampled time the person is on screen

    @property
    def page(self) -> str:
        return person_page_name(self.number)


@dataclass(frozen=True)
class PairView:
    first: PersonView
    second: PersonView
    similarity: float


@dataclass(frozen=True)
class ReportView:
    key: str
    title: str
    movie_path: str
    duration: float
    span: float  # movie time covered by the sampled frames (the timeline's width)
    resolution: str
    fps_sampled: float
    frames: int
    faces: int
    backend: str
    run_seconds: float
    threshold: float | None
    people: list[PersonView]
    pairs: list[PairView]
    unassigned: list[Thumbnail]  # in time order
    settings: dict[str, dict]

    @property
    def mark_width(self) -> float:
        """Width of one timeline mark: one sampling interval, at least 0.15 % of the strip."""
        interval = 1.0 / self.fps_sampled if self.fps_sampled else 1.0
        return max(interval, self.span / 600)


@dataclass(frozen=True)
class LibraryEntry:
    title: str
    href: str
    duration: float
    faces: int
    people_count: int
    people: list[Thumbnail]


def timecode(seconds: float) -> str:
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


def person_page_name(number: int) -> str:
    return f"person-{number:03d}.html"


def relative_src(target: str | Path, report_dir: Path) -> str:
    """A URL path to `target` relative to the report's folder (works from file://)."""
    rel = os.path.relpath(Path(target).resolve(), report_dir.resolve())
    return Path(rel).as_posix()


# building the views from the store --------------------------------------------------------------
def _thumb(face: FaceRow, page_dir: Path) -> Thumbnail:
    return Thumbnail(relative_src(face.crop_path, page_dir), float(face.time or 0.0), face.quality)


def similar_pairs(
    labels: dict[int, int],
    face_ids: list[int],
    matrix: np.ndarray,
    threshold: float,
    together: set[frozenset[int]],
    margin: float = NEAR_MARGIN,
    limit: int = MAX_PAIRS,
) -> list[tuple[int, int, float]]:
    """(person a, person b, similarity) for pairs within `margin` under `threshold`, closest first.

    Similarity is the mean cosine over all face pairs (the clusterer's average linkage), computed
    as the dot product of the mean unit embeddings. People seen in one frame are never the same
    person, so those pairs (`together`) are left out.
    """
    rows: dict[int, list[int]] = defaultdict(list)
    for row, face_id in enumerate(face_ids):
        if labels.get(face_id) is not None:
            rows[labels[face_id]].append(row)
    if len(rows) < 2:
        return []
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    people = sorted(rows)
    centroids = np.stack([unit[rows[p]].mean(axis=0) for p in people])
    sims = centroids @ centroids.T
    pairs = [
        (people[i], people[j], float(sims[i, j]))
        for i in range(len(people))
        for j in range(i + 1, len(people))
        if sims[i, j] >= threshold - margin
        and frozenset((people[i], people[j])) not in together
    ]
    return sorted(pairs, key=lambda p: -p[2])[:limit]


def _seen_together(faces: list[FaceRow]) -> set[frozenset[int]]:
    by_frame: dict[int, set[int]] = defaultdict(set)
    for face in faces:
        if face.person_id is not None:
            by_frame[face.frame_id].add(face.person_id)
    return {
        frozenset((a, b))
        for ids in by_frame.values() if len(ids) > 1
        for a in ids for b in ids if a < b
    }


def build_movie_report(store: MovieStore, key: str, report_dir: Path) -> ReportView:
    movie = store.get_movie(key)
    runs = store.stage_runs(key)
    faces = store.faces(key)
    frame_run = runs.get("frames", {})
    fps = float(frame_run.get("settings", {}).get("fps") or 0.0)
    by_person: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        if face.person_id is not None:
            by_person[face.person_id].append(face)
    people: list[PersonView] = []
    for number, person in enumerate(store.people(key), start=1):
        group = by_person[person.person_id]  # time order, as the store returns faces
        best_first = sorted(group, key=lambda f: -f.quality)
        best = next((f for f in group if f.id == person.best_face_id), best_first[0])
        marks = sorted({float(f.time or 0.0) for f in group})
        people.append(PersonView(
            number=number, person_id=person.person_id, face_count=person.face_count,
            first_seen=person.first_seen, last_seen=person.last_seen,
            screen_time=len(marks) / fps if fps else 0.0,
            best=_thumb(best, report_dir),
            thumbnails=[_thumb(f, report_dir) for f in
                        sorted(best_first[:THUMBNAILS_PER_PERSON], key=lambda f: f.time or 0.0)],
            faces=[_thumb(f, report_dir) for f in group],
            marks=marks,
        ))
    clusters = runs.get("face_clusters", {})
    threshold = clusters.get("settings", {}).get("similarity_threshold")
    pairs: list[PairView] = []
    if threshold is not None and len(people) > 1:
        face_ids, matrix, _ = store.embeddings(key)
        by_id = {p.person_id: p for p in people}
        labels = {f.id: f.person_id for f in faces if f.person_id is not None}
        pairs = [
            PairView(by_id[a], by_id[b], sim)
            for a, b, sim in similar_pairs(labels, face_ids, matrix, threshold,
                                           _seen_together(faces))
        ]
    detect = runs.get("face_detections", {})
    duration = float(movie.duration or 0.0)
    return ReportView(
        key=key,
        title=Path(movie.path).name,
        movie_path=movie.path,
        duration=duration,
        span=float(frame_run.get("stats", {}).get("movie_seconds") or duration or 1.0),
        resolution=f"{movie.width}×{movie.height}" if movie.width else "unknown",
        fps_sampled=fps,
        frames=int(frame_run.get("stats", {}).get("frames", 0)),
        faces=len(faces),
        backend=str(detect.get("settings", {}).get("models", "")),
        run_seconds=sum(float(r["stats"].get("seconds", 0.0)) for r in runs.values()),
        threshold=threshold,
        people=people,
        pairs=pairs,
        unassigned=[_thumb(f, report_dir) for f in faces if f.person_id is None],
        settings={stage: run["settings"] for stage, run in runs.items()},
    )


def build_library(store: MovieStore, output_dir: Path) -> list[LibraryEntry]:
    """Every movie with a written report, in title order, with its top people."""
    entries = []
    for key in sorted(store.movie_keys()):
        report = layout.report_path(output_dir, key)
        if not report.is_file():
            continue
        movie = store.get_movie(key)
        faces = store.faces(key)
        crops = {f.id: f for f in faces}
        people = store.people(key)
        entries.append(LibraryEntry(
            title=Path(movie.path).name,
            href=relative_src(report, output_dir),
            duration=float(movie.duration or 0.0),
            faces=len(faces),
            people_count=len(people),
            people=[_thumb(crops[p.best_face_id], output_dir)
                    for p in people[:LIBRARY_PEOPLE] if p.best_face_id in crops],
        ))
    return sorted(entries, key=lambda e: e.title.lower())


# rendering --------------------------------------------------------------------------------------
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("moviefaces_dag", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["timecode"] = timecode
    env.filters["duration"] = duration_text
    return env


def _write_atomic(path: Path, html: str) -> None:
    """Readers never see a half-written page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)


def render_report(view: ReportView, report_path: Path) -> Path:
    """The movie page, one page per person and the unassigned faces' page; removes the pages
    of people a previous run had and this one has not."""
    env = _environment()
    folder = report_path.parent
    written = set()
    for person in view.people:
        html = env.get_template("person.html.j2").render(report=view, person=person)
        _write_atomic(folder / person.page, html)
        written.add(person.page)
    for stale in folder.glob("person-*.html"):
        if stale.name not in written:
            stale.unlink(missing_ok=True)
    _write_atomic(folder / UNASSIGNED_PAGE,
                  env.get_template("unassigned.html.j2").render(report=view))
    _write_atomic(report_path, env.get_template("movie_report.html.j2").render(
        report=view, unassigned_preview=UNASSIGNED_PREVIEW, unassigned_page=UNASSIGNED_PAGE))
    return report_path


def render_library(entries: list[LibraryEntry], output_dir: Path) -> Path:
    path = Path(output_dir) / LIBRARY_NAME
    _write_atomic(path, _environment().get_template("library.html.j2").render(movies=entries))
    return path
