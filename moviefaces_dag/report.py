"""The static HTML report: who is in the movie, most face images first.

Per movie, rendered from its published snapshot into that generation's folder: the movie page
(installed as `<movie>/index.html` when the generation is published), one page per person and a
page of every unassigned face. `<output>/index.html` lists every published movie. Pages only
reference files in the output folder, by relative links (opens from file://, no server, no
network); every value reaches the HTML through Jinja2's autoescape.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from .store import FaceRow, Generation, MovieDB, NotPublishedError, OutputRoot
from .store.files import write_atomic
from .store.folder import MAIN_PAGE

THUMBNAILS_PER_PERSON = 8
UNASSIGNED_PREVIEW = 48  # the rest are on their own page: the main page stays light
LIBRARY_PEOPLE = 6
# "Possibly the same person": pairs at most this far under the clustering threshold.
NEAR_MARGIN = 0.12
MAX_PAIRS = 12
LIBRARY_NAME = "index.html"
UNASSIGNED_PAGE = "unassigned.html"
# Links on the movie page start at the movie's folder; pages in a generation's folder are two
# folders further down.
MOVIE_PAGE_BASE = ""
GENERATION_PAGE_BASE = "../../"


@dataclass(frozen=True)
class Thumbnail:
    src: str  # URL path relative to the movie's folder
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
    page: str  # URL path of the person's page, relative to the movie's folder


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
    unassigned_page: str  # URL path relative to the movie's folder
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


# building the views from the store --------------------------------------------------------------
def _thumb(face: FaceRow, prefix: str = "") -> Thumbnail:
    return Thumbnail(prefix + quote(face.crop_path), float(face.time or 0.0), face.quality)


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


def build_movie_report(db: MovieDB, pages: str) -> ReportView:
    """The report of the movie in `db`; its person pages will live in the folder `pages`
    (relative to the movie's folder)."""
    movie = db.movie()
    runs = db.stage_runs()
    faces = db.faces()
    frame_run = runs.get("frames")
    fps = float(frame_run.settings.get("fps") or 0.0) if frame_run else 0.0
    by_person: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        if face.person_id is not None:
            by_person[face.person_id].append(face)
    people: list[PersonView] = []
    for number, person in enumerate(db.people(), start=1):
        group = by_person[person.person_id]  # time order, as the store returns faces
        best_first = sorted(group, key=lambda f: -f.quality)
        best = next((f for f in group if f.id == person.best_face_id), best_first[0])
        marks = sorted({float(f.time or 0.0) for f in group})
        people.append(PersonView(
            number=number, person_id=person.person_id, face_count=person.face_count,
            first_seen=person.first_seen, last_seen=person.last_seen,
            screen_time=len(marks) / fps if fps else 0.0,
            best=_thumb(best),
            thumbnails=[_thumb(f) for f in
                        sorted(best_first[:THUMBNAILS_PER_PERSON], key=lambda f: f.time or 0.0)],
            faces=[_thumb(f) for f in group],
            marks=marks,
            page=f"{pages}/{person_page_name(number)}",
        ))
    clusters = runs.get("face_clusters")
    threshold = clusters.settings.get("similarity_threshold") if clusters else None
    pairs: list[PairView] = []
    if threshold is not None and len(people) > 1:
        face_ids, matrix, _ = db.embeddings()
        by_id = {p.person_id: p for p in people}
        labels = {f.id: f.person_id for f in faces if f.person_id is not None}
        pairs = [
            PairView(by_id[a], by_id[b], sim)
            for a, b, sim in similar_pairs(labels, face_ids, matrix, threshold,
                                           _seen_together(faces))
        ]
    detect = runs.get("face_detections")
    duration = float(movie.duration or 0.0)
    return ReportView(
        key=movie.key,
        title=Path(movie.path).name,
        movie_path=movie.path,
        duration=duration,
        span=float((frame_run.stats.get("movie_seconds") if frame_run else 0.0)
                   or duration or 1.0),
        resolution=f"{movie.width}×{movie.height}" if movie.width else "unknown",
        fps_sampled=fps,
        frames=int(frame_run.stats.get("frames", 0)) if frame_run else 0,
        faces=len(faces),
        backend=str(detect.settings.get("models", "")) if detect else "",
        run_seconds=sum(float(r.stats.get("seconds", 0.0)) for r in runs.values()),
        threshold=threshold,
        people=people,
        pairs=pairs,
        unassigned=[_thumb(f) for f in faces if f.person_id is None],
        unassigned_page=f"{pages}/{UNASSIGNED_PAGE}",
        settings={stage: run.settings for stage, run in runs.items()},
    )


def build_library(root: OutputRoot) -> list[LibraryEntry]:
    """Every movie with a published result, in title order, with its top people."""
    entries = []
    for key in root.registered_keys():
        try:
            db = root.folder(key).published()
        except NotPublishedError:
            continue
        movie = db.movie()
        faces = db.faces()
        crops = {f.id: f for f in faces}
        people = db.people()
        prefix = quote(key) + "/"
        entries.append(LibraryEntry(
            title=Path(movie.path).name,
            href=prefix + "index.html",
            duration=float(movie.duration or 0.0),
            faces=len(faces),
            people_count=len(people),
            people=[_thumb(crops[p.best_face_id], prefix)
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


def render_movie_pages(db: MovieDB, generation: Generation) -> dict[str, Any]:
    """Write the movie's pages for `generation` into its staging folder; return a summary."""
    view = build_movie_report(db, generation.folder)
    env = _environment()
    staging = generation.staging
    for person in view.people:
        html = env.get_template("person.html.j2").render(
            report=view, person=person, base=GENERATION_PAGE_BASE)
        (staging / Path(person.page).name).write_text(html, encoding="utf-8")
    (staging / UNASSIGNED_PAGE).write_text(env.get_template("unassigned.html.j2").render(
        report=view, base=GENERATION_PAGE_BASE), encoding="utf-8")
    (staging / MAIN_PAGE).write_text(env.get_template("movie_report.html.j2").render(
        report=view, base=MOVIE_PAGE_BASE, unassigned_preview=UNASSIGNED_PREVIEW),
        encoding="utf-8")
    return {
        "people": len(view.people), "faces": view.faces, "unassigned": len(view.unassigned),
        "pairs": len(view.pairs),
        "top_people": [(p.number, p.face_count, p.screen_time) for p in view.people[:10]],
    }


def render_library(root: OutputRoot) -> Path:
    path = root.path / LIBRARY_NAME
    html = _environment().get_template("library.html.j2").render(movies=build_library(root))
    write_atomic(path, html)
    return path
