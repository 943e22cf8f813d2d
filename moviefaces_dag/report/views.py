"""What a movie's report shows, built from its published snapshot.

Every path in a view is a URL path relative to the movie's folder; the templates prefix it with
the way from their page to that folder (`base`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from shlex import quote as quote_shell
from urllib.parse import quote, urlencode

import numpy as np

from ..faces.chances import EVEN, p_nonface, p_who
from ..media.shots import shot_ids
from ..store import FaceRow, FrameRow, MovieDB
from .pairs import likely_pairs, seen_together

THUMBNAILS_PER_PERSON = 8
UNASSIGNED_PAGE = "unassigned.html"
FRAME_PAGE = "frame.html"


@dataclass(frozen=True)
class Thumbnail:
    """A face as the pages show it."""

    id: int  # the face's id in the store (what `moviefaces people` takes)
    src: str  # the small copy (the crop itself in stores from before thumbnails)
    full: str  # the whole crop
    frame: str  # the frame viewer's address for this face: its frame, box and time
    time: float
    quality: float
    shot: int


@dataclass(frozen=True)
class PersonView:
    number: int  # rank: 1 = most faces
    person_id: int  # stable across re-clustering
    name: str | None
    face_count: int
    first_seen: float
    last_seen: float
    screen_time: float  # seconds: sampled times on screen / sampling rate
    best: Thumbnail
    thumbnails: list[Thumbnail]  # the best ones, one per shot first, in time order
    faces: list[Thumbnail]  # every face, in time order
    marks: list[tuple[float, str]]  # each sampled time on screen, with its frame viewer link
    page: str

    @property
    def label(self) -> str:
        return self.name or f"Person {self.person_id}"


@dataclass(frozen=True)
class UnassignedView:
    face: Thumbnail
    closest: PersonView | None  # the person it is with at least an even chance (else None)
    similarity: float
    chance: float = 0.0  # that it is `closest` (faces/chances.py, as the review queue)
    nonface: float = 0.0  # that it is no face: at least an even chance suggests "reject"

    @property
    def likely_nonface(self) -> bool:
        return self.nonface >= EVEN


@dataclass(frozen=True)
class PairView:
    first: PersonView
    second: PersonView
    similarity: float
    chance: float  # that the two are one person (faces/chances.py): at least even


@dataclass(frozen=True)
class ReportView:
    key: str
    title: str
    movie_path: str
    movie_url: str  # the movie file itself, for "play from here" (where the browser can)
    duration: float
    span: float  # movie time covered by the sampled frames (the timeline's width)
    resolution: str
    fps_asked: float
    fps_sampled: float  # the rate in force: at most the movie's own
    damage: str | None  # how far a damaged movie could be read
    frames: int
    faces: int
    backend: str
    run_seconds: float
    threshold: float | None
    people: list[PersonView]
    hidden: list[PersonView]  # people the user hid: kept out of the lists, their pages kept
    pairs: list[PairView]
    unassigned: list[UnassignedView]  # in time order
    output_dir: str  # for the commands the report suggests
    stale_decisions: list[str]
    unassigned_page: str
    frame_page: str
    settings: dict[str, dict]

    def command(self, action: str, *args: object) -> str:
        """The `moviefaces people` command that takes this decision, ready to paste."""
        words = ["moviefaces", "people", action, self.key, *map(str, args)]
        if self.output_dir:
            words += ["--output-dir", self.output_dir]
        return " ".join(quote_shell(word) for word in words)

    @property
    def mark_width(self) -> float:
        """Width of one timeline mark: one sampling interval, at least 0.15 % of the strip."""
        interval = 1.0 / self.fps_sampled if self.fps_sampled else 1.0
        return max(interval, self.span / 600)


def person_page_name(person_id: int) -> str:
    return f"person-{person_id:03d}.html"


class _Faces:
    """Turns stored faces into thumbnails that link to their frame."""

    def __init__(self, frames: list[FrameRow], viewer: str):
        self.frames = {f.id: f for f in frames}
        cuts = [f.cut_distance or 0.0 for f in frames]
        self.shot = dict(zip((f.id for f in frames), shot_ids(cuts).tolist(), strict=True)) \
            if frames else {}
        self.viewer = viewer

    def thumbnail(self, face: FaceRow, label: str) -> Thumbnail:
        frame = self.frames[face.frame_id]
        where = urlencode({
            "f": frame.path, "s": f"{frame.width}x{frame.height}",
            "b": ",".join(f"{v:.1f}" for v in face.box), "t": f"{face.time or 0.0:.3f}",
            "l": label,
        })
        return Thumbnail(id=face.id, src=quote(face.thumb_path or face.crop_path),
                         full=quote(face.crop_path),
                         frame=f"{self.viewer}#{where}", time=float(face.time or 0.0),
                         quality=face.quality, shot=self.shot.get(face.frame_id, 0))


def best_of_each_shot(faces: list[Thumbnail], count: int) -> list[Thumbnail]:
    """`count` of the best faces, the best of every shot before a second one of any shot (eight
    near-identical frames of one shot say less than one each of eight shots), in time order."""
    ranked = sorted(faces, key=lambda f: -f.quality)
    seen: set[int] = set()
    firsts = [f for f in ranked if f.shot not in seen and not seen.add(f.shot)]
    chosen = (firsts + [f for f in ranked if f not in firsts])[:count]
    return sorted(chosen, key=lambda f: f.time)


def closest_people(db: MovieDB, people: list[PersonView]
                   ) -> dict[int, tuple[PersonView, float]]:
    """For each unassigned face: the person whose mean face it resembles most, and how much."""
    face_ids, matrix, _ = db.embeddings()
    if not len(face_ids) or not people:
        return {}
    labels = {f.id: f.person_id for f in db.faces()}
    rows = {p.person_id: [n for n, fid in enumerate(face_ids) if labels.get(fid) == p.person_id]
            for p in people}
    kept = [p for p in people if rows[p.person_id]]
    if not kept:
        return {}
    means = np.stack([matrix[rows[p.person_id]].mean(axis=0) for p in kept])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    loose = [n for n, fid in enumerate(face_ids) if labels.get(fid) is None]
    if not loose:
        return {}
    sims = matrix[loose] @ means.T
    best = sims.argmax(axis=1)
    return {face_ids[n]: (kept[b], float(sims[k, b])) for k, (n, b) in enumerate(zip(loose, best,
                                                                               strict=True))}


def build_movie_report(db: MovieDB, pages: str, output_dir: str = "",
                       library_names: dict[int, str] | None = None) -> ReportView:
    """The report of the movie in `db`; its other pages will live in the folder `pages`
    (relative to the movie's folder). `output_dir` goes into the commands it suggests;
    `library_names` names people the movie left unnamed after their library person."""
    movie = db.movie()
    names = {**(library_names or {}), **db.names()}
    runs = db.stage_runs()
    faces = db.faces()
    frame_run = runs.get("frames")
    fps_asked = float(frame_run.settings.get("fps") or 0.0) if frame_run else 0.0
    fps = float(frame_run.stats.get("rate", fps_asked)) if frame_run else 0.0
    links = _Faces(db.frames(), f"{pages}/{FRAME_PAGE}")
    by_person: dict[int, list[FaceRow]] = defaultdict(list)
    for face in faces:
        if face.person_id is not None:
            by_person[face.person_id].append(face)
    people: list[PersonView] = []
    hidden: list[PersonView] = []
    for person in db.people():
        shown = hidden if person.hidden else people
        number = len(shown) + 1
        label = names.get(person.person_id) or f"Person {person.person_id}"
        group = [links.thumbnail(f, label) for f in by_person[person.person_id]]  # time order
        best_face = next((f for f in by_person[person.person_id] if f.id == person.best_face_id),
                         None)
        best = links.thumbnail(best_face, label) if best_face else max(
            group, key=lambda f: f.quality)
        marks = sorted({f.time: f.frame for f in group}.items())
        shown.append(PersonView(
            number=number, person_id=person.person_id, name=names.get(person.person_id),
            face_count=person.face_count,
            first_seen=person.first_seen, last_seen=person.last_seen,
            screen_time=len(marks) / fps if fps else 0.0,
            best=best, thumbnails=best_of_each_shot(group, THUMBNAILS_PER_PERSON),
            faces=group, marks=marks, page=f"{pages}/{person_page_name(person.person_id)}",
        ))
    clusters = runs.get("face_clusters")
    threshold = clusters.settings.get("similarity_threshold") if clusters else None
    pairs: list[PairView] = []
    if threshold is not None and len(people) > 1:
        face_ids, matrix, _ = db.embeddings()
        by_id = {p.person_id: p for p in people}
        labels = {f.id: f.person_id for f in faces if f.person_id is not None}
        pairs = [PairView(by_id[a], by_id[b], sim, chance) for a, b, sim, chance in
                 likely_pairs(labels, face_ids, matrix, seen_together(faces))]
    detect = runs.get("face_detections")
    duration = float(movie.duration or 0.0)
    closest = closest_people(db, people)
    return ReportView(
        key=movie.key,
        title=Path(movie.path).name,
        movie_path=movie.path,
        movie_url=Path(movie.path).as_uri() if Path(movie.path).is_absolute() else "",
        duration=duration,
        span=float((frame_run.stats.get("movie_seconds") if frame_run else 0.0)
                   or duration or 1.0),
        resolution=f"{movie.width}×{movie.height}" if movie.width else "unknown",
        fps_asked=fps_asked,
        fps_sampled=fps,
        damage=frame_run.stats.get("damage") if frame_run else None,
        frames=int(frame_run.stats.get("frames", 0)) if frame_run else 0,
        faces=len(faces),
        backend=str(detect.settings.get("models", "")) if detect else "",
        run_seconds=sum(float(r.stats.get("seconds", 0.0)) for r in runs.values()),
        threshold=threshold,
        people=people,
        hidden=hidden,
        pairs=pairs,
        unassigned=[_unassigned(links.thumbnail(f, "Unassigned face"), f,
                                *closest.get(f.id, (None, 0.0)))
                    for f in faces if f.person_id is None],
        output_dir=output_dir,
        stale_decisions=list(clusters.stats.get("stale_decisions", [])) if clusters else [],
        unassigned_page=f"{pages}/{UNASSIGNED_PAGE}",
        frame_page=f"{pages}/{FRAME_PAGE}",
        settings={stage: run.settings for stage, run in runs.items()},
    )


def _unassigned(thumbnail: Thumbnail, face: FaceRow, closest: PersonView | None,
                similarity: float) -> UnassignedView:
    """An unassigned face with the person it is at least as likely as not (else none), and
    the chance that it is no face."""
    nonface = p_nonface(float("nan") if face.embedding_norm is None else face.embedding_norm,
                        face.score)
    chance = (1.0 - nonface) * p_who(similarity) if closest is not None else 0.0
    return UnassignedView(thumbnail, closest if chance >= EVEN else None, similarity, chance,
                          nonface)
