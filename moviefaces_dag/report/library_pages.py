"""Which library pages changed: a digest of what each page shows, kept with the generation.

    <library generation>/pages.json   {"version", "templates", "pages": {page: digest}}

A page whose digest (of the templates and of its content below) is the previous generation's is
linked from there instead of rendered again: the same bytes. The content functions name
everything their template shows; a template that shows more must add it here. The main page
names the generation in its links, so it is always rendered.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from jinja2 import Environment

from ..store.library_db import LibraryPerson
from .library import LIBRARY_PAGES_BASE, LibraryView

PAGES_FILE = "pages.json"
FORMAT = 1


def template_digest(env: Environment) -> str:
    """Every template's source: a new template renders every page again."""
    loader = env.loader
    assert loader is not None
    digest = hashlib.sha256()
    for name in sorted(loader.list_templates()):
        digest.update(name.encode() + b"\0" + loader.get_source(env, name)[0].encode() + b"\0")
    return digest.hexdigest()


class PageDigests:
    def __init__(self, templates: str, pages: dict[str, str] | None = None):
        self.templates = templates
        self.pages = pages or {}

    @classmethod
    def load(cls, folder: Path | None) -> PageDigests:
        """The digests kept in a generation's folder (none when missing or damaged)."""
        try:
            data = json.loads((folder / PAGES_FILE).read_text()) if folder else {}
            if data.get("version") == FORMAT and isinstance(data.get("pages"), dict):
                return cls(str(data.get("templates")), data["pages"])
        except (OSError, ValueError, AttributeError):
            pass
        return cls("")

    def get(self, page: str) -> str | None:
        return self.pages.get(page)

    def add(self, page: str, content: object) -> str | None:
        """Record the digest of `page` showing `content` (None: always rendered)."""
        if content is None:
            return None
        digest = hashlib.sha256(f"{self.templates}\0{content!r}".encode()).hexdigest()
        self.pages[page] = digest
        return digest

    def save(self, folder: Path) -> None:
        (folder / PAGES_FILE).write_text(json.dumps(
            {"version": FORMAT, "templates": self.templates, "pages": self.pages},
            sort_keys=True))


def reuse(source: Path, target: Path, durable: set[Path]) -> bool:
    """Link (or copy) the previous generation's page; False when it is not there. A linked
    page joins `durable` (published already: on disk)."""
    try:
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            shutil.copyfile(source, target)
        except OSError:
            return False
        return True
    durable.add(target)
    return True


def _shown(view: LibraryView, person: LibraryPerson) -> tuple:
    """A person as a list or a link shows them."""
    return (person.id, person.label, person.other_names, person.movies, person.screen_time,
            person.faces, person.best_face, view.href(person, LIBRARY_PAGES_BASE))


def list_content(view: LibraryView, people: list[LibraryPerson]) -> tuple:
    """What `library.html.j2` shows in the generation's folder (by-movies.html)."""
    return (view.movies, [_shown(view, p) for p in people])


def met_content(view: LibraryView) -> list[tuple]:
    """What `library_met.html.j2` shows."""
    return [(_shown(view, a), _shown(view, b), movies) for a, b, movies in view.met]


def person_content(view: LibraryView, person: LibraryPerson) -> tuple:
    """What `library_person.html.j2` shows: the person, and the first 25 they met."""
    met = view.met_by_person.get(person.id, [])
    return (person, len(met), [(m.other.id, m.other.label, view.href(m.other, LIBRARY_PAGES_BASE),
                                m.movies) for m in met[:25]])
