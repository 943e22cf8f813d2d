"""What the library needs of each published movie, kept with the library so a build reads only
the movies published anew.

    <library generation>/movies.json        {"version", "movies": {key: {"generation", "file"}}}
    <library generation>/movies/<key>.npz   one movie: its people's facts and the movie's card
                                            (JSON), their centroids and clearest faces
    <library generation>/links.npz          the links between every two movies' people

An entry stands for the movie's published generation it was read from: a build reuses it while
that generation is the published one (linking its file into the new library generation) and
reads the movie's snapshot again otherwise; the links between two movies both unchanged are
kept too, and only the pairs with a movie read again are compared. The files are written into
the library's staging folder, so they are published (or dropped) with the rest of the
generation.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..store import MovieDB, OutputRoot
from ..store.library_db import ENTRIES_FOLDER, ENTRIES_INDEX, LINKS_NAME
from .library import MoviePerson, PageName, movie_people
from .linking import PairLinks

FORMAT = 1  # bump when what an entry holds changes: older entries are then read again

# The movie's card on the library's main page, as JSON-ready data (the report makes it).
Card = Callable[[str, MovieDB], dict[str, Any]]


@dataclass
class MovieEntry:
    """One movie's people, met-before pairs (person, person, shots) and card, as read from
    its published generation `generation`."""

    key: str
    generation: str
    people: list[MoviePerson]
    met: list[tuple[int, int, int]]
    card: dict[str, Any]
    file: str = ""  # where it is kept, relative to the library generation ("": not yet)


def gather_movies(root: OutputRoot, previous: Path | None, page_name: PageName, card: Card
                  ) -> tuple[list[MovieEntry], int]:
    """Every published movie's entry, by key: reused from the previous library generation's
    folder `previous` where the movie's published generation is unchanged, read from its
    snapshot otherwise; and how many were read."""
    kept = _manifest(previous)
    entries, read = [], 0
    for folder in root.published_folders():
        key, generation = folder.key, folder.published_generation() or ""
        entry = None
        known = kept.get(key)
        if previous is not None and known and known.get("generation") == generation:
            entry = _load(previous / str(known.get("file")), key, generation)
        if entry is None:
            db = folder.published()
            people, met = movie_people(key, db, generation, page_name)
            entry = MovieEntry(key, generation, people, met, card(key, db))
            read += 1
        entries.append(entry)
    return entries, read


def save_movies(entries: list[MovieEntry], previous: Path | None, staging: Path,
                durable: set[Path]) -> None:
    """Keep `entries` in the library generation being written in `staging`: an entry reused
    from `previous` is linked (joining `durable`: on disk already) or copied from there, a new
    one written."""
    (staging / ENTRIES_FOLDER).mkdir(exist_ok=True)
    manifest = {}
    for entry in entries:
        file = f"{ENTRIES_FOLDER}/{quote(entry.key, safe='')}.npz"
        if entry.file and previous is not None:
            if _link(previous / entry.file, staging / file):
                durable.add(staging / file)
        else:
            _write(entry, staging / file)
        entry.file = file
        manifest[entry.key] = {"generation": entry.generation, "file": file}
    (staging / ENTRIES_INDEX).write_text(json.dumps({"version": FORMAT, "movies": manifest},
                                               ensure_ascii=False, sort_keys=True))


def _manifest(folder: Path | None) -> dict[str, dict[str, Any]]:
    if folder is None:
        return {}
    try:
        data = json.loads((folder / ENTRIES_INDEX).read_text())
    except (OSError, ValueError):
        return {}  # none yet (a library built before), or damaged: every movie is read
    if not isinstance(data, dict) or data.get("version") != FORMAT:
        return {}
    movies = data.get("movies")
    return {k: v for k, v in movies.items() if isinstance(v, dict)} \
        if isinstance(movies, dict) else {}


def _link(source: Path, target: Path) -> bool:
    """Link `source` as `target` (True), or copy it where it cannot be linked (False)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        return False
    return True


def _write(entry: MovieEntry, path: Path) -> None:
    people = entry.people
    meta = {
        "key": entry.key, "generation": entry.generation, "card": entry.card,
        "met": [list(m) for m in entry.met],
        "people": [{"person_id": p.person_id, "name": p.name, "model": p.model,
                    "faces": p.faces, "screen_time": p.screen_time,
                    "first_seen": p.first_seen, "last_seen": p.last_seen, "page": p.page,
                    "best_face": p.best_face, "shots": sorted(p.shots),
                    "exemplars": len(p.exemplars)} for p in people]}
    width = people[0].centroid.shape[0] if people else 0
    dtype = people[0].centroid.dtype if people else np.float32
    centroids = np.stack([p.centroid for p in people]) if people \
        else np.zeros((0, width), dtype)
    exemplars = np.concatenate([p.exemplars for p in people]) if people \
        else np.zeros((0, width), dtype)
    with path.open("wb") as stream:
        np.savez(stream, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                 centroids=centroids, exemplars=exemplars)


def _load(path: Path, key: str, generation: str) -> MovieEntry | None:
    """The entry kept at `path`, or None when it is missing, damaged or another movie's."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes())
            centroids, exemplars = data["centroids"], data["exemplars"]
        if meta["key"] != key or meta["generation"] != generation:
            return None
        people, start = [], 0
        for n, p in enumerate(meta["people"]):
            count = int(p["exemplars"])
            people.append(MoviePerson(
                movie=key, person_id=int(p["person_id"]), name=p["name"], model=p["model"],
                faces=int(p["faces"]), screen_time=p["screen_time"],
                first_seen=p["first_seen"], last_seen=p["last_seen"], page=p["page"],
                best_face=p["best_face"], centroid=centroids[n],
                exemplars=exemplars[start:start + count], shots=set(p["shots"])))
            start += count
        met = [(int(a), int(b), int(n)) for a, b, n in meta["met"]]
        return MovieEntry(key, generation, people, met, meta["card"],
                          file=str(path.relative_to(path.parent.parent)))
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile):
        return None


def kept_links(previous: Path | None, entries: list[MovieEntry]
               ) -> dict[tuple[str, str], PairLinks]:
    """The links kept in `previous` between every two movies whose entries were kept from it
    (the pairs with no link too: every pair was compared); {} when there are none."""
    reused = [e.key for e in entries if e.file]
    if previous is None or not reused:
        return {}
    try:
        with np.load(previous / LINKS_NAME, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes())
            columns = [data[name].tolist() for name in ("a", "b", "pa", "pb", "sim")]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}
    if not isinstance(meta, dict) or meta.get("version") != FORMAT:
        return {}
    keys = meta["movies"]
    found: dict[tuple[str, str], PairLinks] = {}
    for a, b, pa, pb, sim in zip(*columns, strict=True):
        found.setdefault((keys[a], keys[b]), []).append((sim, pa, pb))
    order = {key: n for n, key in enumerate(reused)}
    return {(a, b): found.get((a, b), []) for a in reused for b in reused
            if order[a] < order[b]}


def save_links(links: dict[tuple[str, str], PairLinks], entries: list[MovieEntry],
               staging: Path) -> None:
    keys = [e.key for e in entries]
    number = {key: n for n, key in enumerate(keys)}
    rows = [(number[a], number[b], pa, pb, sim) for (a, b), pairs in links.items()
            for sim, pa, pb in pairs]
    a, b, pa, pb, sim = (list(c) for c in zip(*rows, strict=True)) if rows \
        else ([], [], [], [], [])
    with (staging / LINKS_NAME).open("wb") as stream:
        np.savez(stream, meta=np.frombuffer(json.dumps({"version": FORMAT, "movies": keys})
                                            .encode(), np.uint8),
                 a=np.array(a, np.int64), b=np.array(b, np.int64), pa=np.array(pa, np.int64),
                 pb=np.array(pb, np.int64), sim=np.array(sim, np.float64))
