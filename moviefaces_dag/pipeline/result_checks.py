"""What must hold of a movie's results before anything is built on them (Dagster runs these as
asset checks; they read the store and the files, nothing else)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..core.words import timecode
from ..store import MovieDB, MovieFolder
from ..store.generations import GENERATIONS, MAIN_PAGE

LINK = re.compile(r'(?:src|href)="([^"]*)"')


def missing_face_files(folder: MovieFolder, db: MovieDB) -> list[str]:
    """Faces whose crop or thumbnail file is not there."""
    missing = []
    for face in db.faces():
        for path in (face.crop_path, face.thumb_path):
            if path and not folder.file(path).is_file():
                missing.append(f"face {face.id}: {path}")
    return missing


def embedding_problems(db: MovieDB, width: int) -> list[str]:
    """Faces without an embedding, or embeddings of another width than the model's."""
    embedded, matrix, _ = db.embeddings()
    problems = [f"face {f.id} has no embedding" for f in db.faces()
                if f.id not in set(embedded)]
    if len(embedded) and width > 0 and matrix.shape[1] != width:
        problems.append(f"embeddings are {matrix.shape[1]} wide, the model gives {width}")
    return problems


def same_frame_people(db: MovieDB) -> list[str]:
    """People given two faces of one frame (one person is never twice in a picture)."""
    times = {f.id: f.time for f in db.frames()}
    seen: dict[tuple[int, int], int] = defaultdict(int)
    for face in db.faces():
        if face.person_id is not None:
            seen[(face.frame_id, face.person_id)] += 1
    return [f"person {person} twice at {timecode(times[frame])}"
            for (frame, person), count in sorted(seen.items()) if count > 1]


def broken_links(folder: MovieFolder, exists: Callable[[Path], bool] | None = None) -> list[str]:
    """Images and links of the published pages that lead nowhere (`exists`: whether a file is
    there, when the folder is a partial copy of a shared root's)."""
    exists = exists or Path.exists
    generation = folder.published_generation()
    pages = [folder.report_path]
    if generation:
        pages += [p for p in (folder.path / GENERATIONS / generation).glob("*.html")
                  if p.name != MAIN_PAGE]
    broken = []
    for page in pages:
        for link in LINK.findall(page.read_text(encoding="utf-8")):
            parts = urlsplit(link.replace("&amp;", "&"))
            if parts.scheme or not parts.path:  # the movie file itself, or a link on the page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_relative_to(folder.path.resolve()):
                continue  # the library's page: the library asset's business
            if not exists(target):
                broken.append(f"{page.relative_to(folder.path)}: {link}")
    return broken
