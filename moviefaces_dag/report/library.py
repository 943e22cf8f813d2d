"""`<output>/index.html`: every movie with a published result and its most frequent people."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..store import NotPublishedError, OutputRoot

LIBRARY_PEOPLE = 6


@dataclass(frozen=True)
class LibraryEntry:
    title: str
    href: str
    duration: float
    faces: int
    people_count: int
    people: list[tuple[str, str, str]]  # top people: (best face, their anchor, label) as URLs
    # relative to the root


def build_library(root: OutputRoot) -> list[LibraryEntry]:
    """Every movie with a published result, in title order, with its top people."""
    entries = []
    for key in root.registered_keys():
        try:
            db = root.folder(key).published()
        except NotPublishedError:
            continue
        movie = db.movie()
        faces = {f.id: f for f in db.faces()}
        people = db.people()
        names = db.names()
        prefix = quote(key) + "/"
        entries.append(LibraryEntry(
            title=Path(movie.path).name,
            href=prefix + "index.html",
            duration=float(movie.duration or 0.0),
            faces=len(faces),
            people_count=len(people),
            people=[(prefix + quote(faces[p.best_face_id].thumb_path
                                    or faces[p.best_face_id].crop_path),
                     f"{prefix}index.html#person-{p.person_id}",
                     names.get(p.person_id) or f"Person {p.person_id}")
                    for p in people[:LIBRARY_PEOPLE] if p.best_face_id in faces],
        ))
    return sorted(entries, key=lambda e: e.title.lower())
