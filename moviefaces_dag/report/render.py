"""Writing the pages: Jinja2 templates with autoescape, so every value is escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..store import Generation, MovieDB, OutputRoot
from ..store.files import write_atomic
from ..store.folder import MAIN_PAGE
from ..words import duration_text, plural, rate_text, timecode
from .library import build_library
from .views import FRAME_PAGE, UNASSIGNED_PAGE, build_movie_report

UNASSIGNED_PREVIEW = 48  # the rest are on their own page: the main page stays light
LIBRARY_NAME = "index.html"
# Links on the movie page start at the movie's folder; pages in a generation's folder are two
# folders further down.
MOVIE_PAGE_BASE = ""
GENERATION_PAGE_BASE = "../../"


def _environment() -> Environment:
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


def render_movie_pages(db: MovieDB, generation: Generation, output_dir: str = ""
                       ) -> dict[str, Any]:
    """Write the movie's pages for `generation` into its staging folder; return a summary.
    `output_dir` goes into the commands the pages suggest."""
    view = build_movie_report(db, generation.folder, output_dir)
    env = _environment()
    staging = generation.staging

    def write(name: str, template: str, **context: Any) -> None:
        html = env.get_template(template).render(report=view, **context)
        (staging / name).write_text(html, encoding="utf-8")

    for person in view.people:
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


def render_library(root: OutputRoot) -> Path:
    path = root.path / LIBRARY_NAME
    html = _environment().get_template("library.html.j2").render(movies=build_library(root))
    write_atomic(path, html)
    return path
