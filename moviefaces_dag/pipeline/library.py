"""The library stage: every published movie's people linked across movies, published as the
library's store and pages."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..people.library import (
    group_people,
    keep_library_ids,
    library_decisions,
    library_name,
    library_path,
    names_from_library,
    published_library,
)
from ..people.library_movies import gather_movies, kept_links, save_links, save_movies
from ..people.linking import movie_links, ordered_links
from ..report import render_library_pages
from ..report.library import card_entry, movie_card
from ..report.views import person_page_name
from ..store import Generation, MovieBusyError, OutputRoot
from ..store.generations import Generations
from ..store.library_db import LIBRARY_DB, LIBRARY_PAGE, LibraryDB, LibraryPerson, Member
from ..store.lock import writer_lock
from ..store.shared import LIBRARY_LOCK_WAIT


def publish_library(root: OutputRoot, full: bool = False) -> dict[str, Any]:
    """Link every published movie's people across movies, with the user's library decisions,
    and publish the library (its store and pages, `<output>/index.html` among them).

    Incremental: what the library needs of each movie is kept with it (people/library_movies.py)
    and read again only from movies published anew; a page whose content is unchanged is
    linked from the previous generation (report/library_pages.py); only the pairs of movies with
a movie read again are compared (people/linking.py).
    `full`: read every movie and render every page (the same result, from scratch)."""
    folder = library_path(root)
    folder.mkdir(parents=True, exist_ok=True)
    decisions = library_decisions(root)
    generations = Generations(folder, root.path / LIBRARY_PAGE)
    with writer_lock(folder / ".writer.lock", "the library", "the library is being written",
                     wait=LIBRARY_LOCK_WAIT):
        previous = published_library(root)
        current = generations.current()
        before_folder = None if full or current is None else generations.path(current)
        pointed_at = previous.every_reference() if previous else {}
        named_before = _names_by_movie(previous.people() if previous else [])
        entries, read = gather_movies(root, before_folder, person_page_name, movie_card)
        people = [p for entry in entries for p in entry.people]
        met = [(entry.key, a, b, n) for entry in entries for a, b, n in entry.met]
        links = movie_links([(e.key, e.people) for e in entries],
                            kept_links(before_folder, entries))
        groups, names, stale = group_people(people, decisions.load(),
                                            ordered_links(people, links))
        before = {(m.movie, m.person_id): p.id for p in (previous.people() if previous else [])
                  for m in p.members}
        ids = keep_library_ids([[people[n].ref for n in g] for g in groups], before,
                               previous.next_id() if previous else 1)
        library = [_library_person(lid, [people[n] for n in g], names)
                   for lid, g in zip(ids, groups, strict=True)]
        library_of = {m: p.id for p in library for m in ((x.movie, x.person_id)
                                                          for x in p.members)}
        pairs = [(*sorted((library_of[(movie, a)], library_of[(movie, b)])), movie, shots)
                 for movie, a, b, shots in met
                 if (movie, a) in library_of and (movie, b) in library_of]
        pages: dict[str, int] = {}

        def build(generation: Generation) -> None:
            save_movies(entries, before_folder, generation.staging, generation.durable)
            save_links(links, entries, generation.staging)
            db = LibraryDB(generation.staging / LIBRARY_DB)
            db.write(library, pairs, max([p.id for p in library], default=0) + 1)
            pages.update(render_library_pages(
                LibraryDB(generation.staging / LIBRARY_DB, readonly=True), root, generation,
                [card_entry(entry.card) for entry in entries], before_folder))

        name = generations.publish(build)
        now = published_library(root)
    _prune_movies(root, pointed_at, now.every_reference() if now else {})
    named_now = _names_by_movie(library)
    renamed = sorted(key for key in {*named_before, *named_now}
                     if named_before.get(key) != named_now.get(key))
    linked = [p for p in library if p.movies > 1]
    return {"generation": name, "people": len(library), "across_movies": len(linked),
            "met_pairs": len(pairs), "stale_decisions": stale,
            "movies_read": read, "movies_kept": len(entries) - read,
            "pages_rendered": pages.get("rendered", 0), "pages_kept": pages.get("reused", 0),
            "names_changed": renamed, "path": str(root.path / LIBRARY_PAGE)}


def _prune_movies(root: OutputRoot, pointed_at: dict[str, set[tuple[str, str | None]]],
                  now: dict[str, set[tuple[str, str | None]]]) -> None:
    """Movies keep older generations and files while the library points at them: once it
    points elsewhere, remove them (a movie being written is left to its writer, which prunes
    when it publishes). `pointed_at`, `now`: what the previous and the new library point at,
    by movie. A shared root's local copy of a movie holds no draft: the movie's writer prunes
    the shared one."""
    nothing: set[tuple[str, str | None]] = set()
    for folder in root.published_folders():
        if not folder.exists() or now.get(folder.key, nothing) == pointed_at.get(folder.key,
                                                                                   nothing):
            continue
        try:
            with folder.writing("the library: pruning") as draft:
                draft.recover()
        except MovieBusyError:
            pass


def _library_person(library_id: int, members: list, names: dict) -> LibraryPerson:
    top = max(members, key=lambda m: m.screen_time)
    name, others = library_name(members, names)
    return LibraryPerson(
        id=library_id, name=name, other_names=others, model=top.model,
        faces=sum(m.faces for m in members),
        screen_time=sum(m.screen_time for m in members), movies=len(members),
        best_face=top.best_face,
        members=tuple(Member(m.movie, m.person_id, m.label, m.faces, m.screen_time,
                             m.first_seen, m.last_seen, m.page, m.best_face)
                      for m in sorted(members, key=lambda m: (m.movie, m.person_id))))


def _names_by_movie(library: list[LibraryPerson]) -> dict[str, dict[int, str]]:
    """The names each movie's pages take from the library: movie -> person id -> name."""
    names: dict[str, dict[int, str]] = defaultdict(dict)
    for (movie, person), name in names_from_library(library).items():
        names[movie][person] = name
    return dict(names)
