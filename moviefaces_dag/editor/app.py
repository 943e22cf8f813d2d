"""The editor's web app (Starlette): pages over an output folder, its images, and the actions.

Every action is recorded at once and answered with what it did; the page then shows the new
grouping, computed from the decisions (views.py). The report, the library and Dagster's
records follow in the background (background.py, persist.py); `/status` says how far."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..cli.people import describe
from ..people.decision_log import DecisionError
from ..report.render import environment
from ..store import OutputRoot, StoreError
from .actions import LIBRARY, library_action, movie_action
from .background import Persister
from .persist import persist_library, persist_movie
from .security import TOKEN_HEADER, Guard, allowed_hosts
from .views import (
    describe_library,
    history,
    library_people,
    movie_state,
    movie_summaries,
    names_in_use,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
STATIC = {"editor.js": (TEMPLATES / "editor" / "editor.js", "text/javascript"),
          "editor.css": (TEMPLATES / "editor" / "editor.css", "text/css"),
          "report.css": (TEMPLATES / "report.css", "text/css")}
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".webp": "image/webp"}
MAX_BODY = 1_000_000


def safe_file(root: Path, relative: str) -> Path | None:
    """The image at `relative` inside `root`, or None for anything else: outside the folder
    (`..`, an absolute path, a link leading out), missing, or not an image."""
    if "\x00" in relative or "\\" in relative:
        return None
    base = root.resolve()
    try:
        target = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target if target.suffix.lower() in IMAGE_TYPES else None


class Editor:
    """The app's state: the output folder, the token and one persister per movie."""

    def __init__(self, output_dir: Path, token: str):
        self.root = OutputRoot(output_dir)
        self.token = token
        self.env = environment()
        self._persisters: dict[str, Persister] = {}
        self._lock = threading.Lock()

    def persister(self, key: str) -> Persister:
        with self._lock:
            if key not in self._persisters:
                if key == LIBRARY:
                    job = lambda: persist_library(self.root)  # noqa: E731
                else:
                    folder = self.root.folder(key)
                    job = lambda: persist_movie(self.root, folder)  # noqa: E731
                self._persisters[key] = Persister(key or "library", job)
            return self._persisters[key]

    def status(self) -> dict[str, Any]:
        with self._lock:
            persisters = dict(self._persisters)
        states = {key: p.state() for key, p in persisters.items()}
        return {"movies": {k: s for k, s in states.items() if k != LIBRARY},
                "library": states.get(LIBRARY),
                "settled": all(s["settled"] for s in states.values())}

    def wait(self, timeout: float = 300.0) -> bool:
        """Until every persister is done (tests, benchmark)."""
        with self._lock:
            persisters = list(self._persisters.values())
        return all(p.wait(timeout) for p in persisters)

    def page(self, template: str, **context: Any) -> HTMLResponse:
        html = self.env.get_template(f"editor/{template}").render(
            token=self.token, names=names_in_use(self.root), token_header=TOKEN_HEADER,
            **context)
        return HTMLResponse(html)

    # pages --------------------------------------------------------------------------------------
    def library_page(self, _request: Request) -> Response:
        return self.page("library.html.j2", movies=movie_summaries(self.root),
                         people=library_people(self.root), movie=None,
                         persist=self.persister(LIBRARY).state())

    def library_history(self, _request: Request) -> Response:
        from ..people.library import library_decisions

        return self.page("history.html.j2", movie=None, lines=history(
            library_decisions(self.root), describe_library), persist=None)

    def movie_page(self, request: Request) -> Response:
        state = movie_state(self.root, request.path_params["key"])
        return self.page("movie.html.j2", movie=state,
                         persist=self.persister(state.key).state())

    def person_page(self, request: Request) -> Response:
        state = movie_state(self.root, request.path_params["key"])
        person = state.person(request.path_params["person"])
        if person is None:  # merged, moved or taken back: the movie's people instead
            return RedirectResponse(f"/movie/{state.key}", 303)
        links = [(m.movie, m.person_id, m.label) for p in library_people(self.root)
                 for m in p.members if m.movie != state.key]
        library_id = next((p for p in library_people(self.root) if any(
            (m.movie, m.person_id) == (state.key, person.id) for m in p.members)), None)
        return self.page("person.html.j2", movie=state, person=person, faces=person.faces,
                         others=[p for p in state.people if p.id != person.id],
                         links=links, library_person=library_id,
                         persist=self.persister(state.key).state())

    def unassigned_page(self, request: Request) -> Response:
        state = movie_state(self.root, request.path_params["key"])
        return self.page("person.html.j2", movie=state, person=None, faces=state.unassigned,
                         others=state.people, links=[], library_person=None,
                         persist=self.persister(state.key).state())

    def review_page(self, request: Request) -> Response:
        from .review import review_view

        skipped = {s for s in request.query_params.get("skip", "").split(",") if s}
        review = review_view(self.root, request.path_params["key"], skipped)
        return self.page("review.html.j2", movie=review.movie, review=review, q=review.question,
                         persist=self.persister(review.movie.key).state())

    def hidden_page(self, request: Request) -> Response:
        state = movie_state(self.root, request.path_params["key"])
        return self.page("hidden.html.j2", movie=state, persist=self.persister(state.key).state())

    def movie_history(self, request: Request) -> Response:
        state = movie_state(self.root, request.path_params["key"])
        return self.page("history.html.j2", movie=state, lines=history(state.decisions, describe),
                         persist=self.persister(state.key).state())

    def status_page(self, _request: Request) -> Response:
        return JSONResponse(self.status())

    def file(self, request: Request) -> Response:
        found = safe_file(self.root.path, request.path_params["path"])
        if found is None:
            return Response("not found", 404, media_type="text/plain")
        return FileResponse(found, media_type=IMAGE_TYPES[found.suffix.lower()])

    def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return Response("not found", 404, media_type="text/plain")
        path, media_type = STATIC[name]
        return FileResponse(path, media_type=media_type)

    # actions ------------------------------------------------------------------------------------
    async def act(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"ok": False, "error": "request too large"}, 413)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return JSONResponse({"ok": False, "error": "the request is not JSON"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"ok": False, "error": "the request is not an object"}, 400)
        key = request.path_params.get("key", LIBRARY)
        action = request.path_params["action"]
        from starlette.concurrency import run_in_threadpool

        try:
            if key == LIBRARY:
                done, changed = await run_in_threadpool(library_action, self.root, action, body)
            else:
                done, changed = await run_in_threadpool(movie_action, self.root, key, action,
                                                        body)
        except (DecisionError, StoreError) as exc:
            return JSONResponse({"ok": False, "error": str(exc).splitlines()[0]}, 409)
        for made_again in changed:
            self.persister(made_again).request()
        return JSONResponse({"ok": True, "message": done})


def _not_found(request: Request, exc: Exception) -> Response:
    return HTMLResponse(f"<!DOCTYPE html><title>Not found</title><p>{_escape(str(exc))}</p>"
                        "<p><a href=\"/\">The library</a></p>", 404)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text.splitlines()[0] if text else ""))


def create_app(output_dir: Path, token: str, host: str = "127.0.0.1", port: int = 0
               ) -> tuple[Guard, Editor]:
    """The editor over `output_dir`, guarded for `host:port`; (the ASGI app, its state)."""
    editor = Editor(output_dir, token)
    routes = [
        Route("/", editor.library_page),
        Route("/library/history", editor.library_history),
        Route("/movie/{key}", editor.movie_page),
        Route("/movie/{key}/person/{person:int}", editor.person_page),
        Route("/movie/{key}/unassigned", editor.unassigned_page),
        Route("/movie/{key}/hidden", editor.hidden_page),
        Route("/movie/{key}/review", editor.review_page),
        Route("/movie/{key}/history", editor.movie_history),
        Route("/status", editor.status_page),
        Route("/files/{path:path}", editor.file),
        Route("/static/{name}", editor.static),
        Route("/api/library/{action}", editor.act, methods=["POST"]),
        Route("/api/movie/{key}/{action}", editor.act, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={StoreError: _not_found})
    return Guard(app, token, allowed_hosts(host, port), port), editor
