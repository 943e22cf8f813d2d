"""The static HTML report: who is in the movie, most face images first.

Per movie, rendered from its published snapshot into that generation's folder: the movie page
(installed as `<movie>/index.html` when the generation is published), one page per person, a
page of every unassigned face and a frame viewer. `<output>/index.html` lists every published
movie. Pages only reference files in the output folder, by relative links (opens from file://,
no server, no network); every value reaches the HTML through Jinja2's autoescape.
"""

from .render import render_library_pages, render_movie_pages
from .views import build_movie_report

__all__ = ["build_movie_report", "render_library_pages", "render_movie_pages"]
