"""Writing the pages: Jinja2 templates with autoescape, so every value is escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..core.words import duration_text, plural, rate_text, timecode
from ..store import Generation, MovieDB, OutputRoot
from ..store.generations import MAIN_PAGE
from ..store.library_db import LibraryDB
from .library import LIBRARY_PAGES_BASE, LibraryEntry, build_library_view, person_page
from .library_pages import (
    PageDigests,
    list_content,
    met_content,
    person_content,
    reuse,
    template_digest,
)
from .views import FRAME_PAGE, UNASSIGNED_PAGE, build_movie_report

UNASSIGNED_PREVIEW = 48  # the rest are on their own page: the main page stays light
# Links on the movie page start at the movie's folder; pages in a generation's folder are two
# folders further down.
MOVIE_PAGE_BASE = ""
GENERATION_PAGE_BASE = "../../"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("moviefaces_dag", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["timecode"] = timecode
    env.filters["duration"] = duration_text
    env.filters["plural"] = plural
    env.filters["rate"] = rate_text
    return env


def render_movie_pages(db: MovieDB, generation: Generation, output_dir: str = "",
                       library_names: dict[int, str] | None = None) -> dict[str, Any]:
    """Write the movie's pages for `generation` into its staging folder; return a summary.
    `output_dir` goes into the commands the pages suggest; `library_names` names people the
    movie left unnamed after their library person."""
    view = build_movie_report(db, generation.folder, output_dir, library_names)
    env = environment()
    staging = generation.staging

    def write(name: str, template: str, **context: Any) -> None:
        html = env.get_template(template).render(report=view, **context)
        (staging / name).write_text(html, encoding="utf-8")

    for person in view.people + view.hidden:
        write(Path(person.page).name, "person.html.j2", person=person, base=GENERATION_PAGE_BASE)
    write(UNASSIGNED_PAGE, "unassigned.html.j2", base=GENERATION_PAGE_BASE)
    write(FRAME_PAGE, "frame.html.j2", base=GENERATION_PAGE_BASE)
    write(MAIN_PAGE, "movie_report.html.j2", base=MOVIE_PAGE_BASE,
          unassigned_preview=UNASSIGNED_PREVIEW)
    return {
        "people": len(view.people), "faces": view.faces, "unassigned": len(view.unassigned),
        "pairs": len(view.pairs),
        "top_people": [(p.label, p.face_count, p.screen_time) for p in view.people[:10]],
    }


def render_library_pages(db: LibraryDB, root: OutputRoot, generation: Generation,
                         movies: list[LibraryEntry] | None = None,
                         previous: Path | None = None) -> dict[str, int]:
    """Write the library's pages for `generation` into its staging folder; `movies`: the
    movies' entries (else read from every published movie). A page whose content is the same
    as in the previous generation's folder `previous` is linked from there, not rendered
    again. Returns how many pages were rendered and how many reused."""
    view = build_library_view(db, root, f"library/{generation.folder}", movies)
    env = environment()
    kept = PageDigests.load(previous)
    digests = PageDigests(template_digest(env))
    counts = {"rendered": 0, "reused": 0}

    def write(name: str, template: str, base: str, content: object, **context: Any) -> None:
        digest = digests.add(name, content)
        unchanged = digest is not None and kept.get(name) == digest and previous is not None
        if unchanged and reuse(previous / name, generation.staging / name,
                                   generation.durable):
            counts["reused"] += 1
            return
        html = env.get_template(template).render(library=view, base=base, **context)
        (generation.staging / name).write_text(html, encoding="utf-8")
        counts["rendered"] += 1

    write(MAIN_PAGE, "library.html.j2", "", None, people=view.people, by="screen time")
    by_movies = sorted(view.people, key=lambda p: (-p.movies, -p.screen_time, p.id))
    write("by-movies.html", "library.html.j2", LIBRARY_PAGES_BASE,
          list_content(view, by_movies), people=by_movies, by="number of movies")
    write("met.html", "library_met.html.j2", LIBRARY_PAGES_BASE, met_content(view))
    for person in view.people:
        write(person_page(person), "library_person.html.j2", LIBRARY_PAGES_BASE,
              person_content(view, person), person=person)
    digests.save(generation.staging)
    return counts
