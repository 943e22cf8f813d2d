"""What keeps the editor to its user: it answers only its own host names (a DNS-rebinding name
gets 403), every request needs the session token (a SameSite=Strict, HttpOnly cookie set from
the printed address's `?token=`), and every change (POST) also needs the token in the
`X-Moviefaces-Token` header and an `Origin` (else `Referer`) of the editor itself."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_HEADER = "X-Moviefaces-Token"
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host header values the editor answers: the host it listens on, and this machine's
    own names, each with the port."""
    names = set(LOCAL_NAMES)
    if host not in ("127.0.0.1", "localhost", "::1"):
        names |= {host, socket.gethostname(), socket.getfqdn()}
        names.discard("0.0.0.0")
        names.discard("::")
    return {f"{name}:{port}".lower() for name in names}


def cookie_name(port: int) -> str:
    return f"moviefaces_editor_{port}"  # cookies ignore ports: one per editor


class Guard:
    """ASGI middleware: the checks above, and the security headers on every answer."""

    def __init__(self, app: ASGIApp, token: str, hosts: set[str], port: int):
        self.app, self.token, self.hosts, self.cookie = app, token, hosts, cookie_name(port)
        self.origins = {f"http://{h}" for h in hosts}

    def _same(self, value: str | None) -> bool:
        return bool(value) and secrets.compare_digest(value.encode(), self.token.encode())

    def refusal(self, request: Request) -> Response | None:
        if request.headers.get("host", "").lower() not in self.hosts:
            return PlainTextResponse("unknown host", 403)
        if request.method == "POST":
            if not self._same(request.headers.get(TOKEN_HEADER)):
                return PlainTextResponse("missing or wrong session token", 403)
            origin = request.headers.get("origin")
            if origin is None:
                referer = urlsplit(request.headers.get("referer", ""))
                origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else ""
            if origin.lower() not in self.origins:
                return PlainTextResponse("request from another site", 403)
            return None
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("method not allowed", 405)
        if "token" in request.query_params:
            if not self._same(request.query_params["token"]):
                return PlainTextResponse("wrong session token", 403)
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            answer = RedirectResponse(request.url.path + (f"?{urlencode(rest)}" if rest else ""),
                                      303)
            answer.set_cookie(self.cookie, self.token, httponly=True, samesite="strict")
            return answer
        if not self._same(request.cookies.get(self.cookie)):
            return PlainTextResponse("open the address `moviefaces serve` printed (with its "
                                     "?token=)", 403)
        return None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.lower().encode(), v.encode())
                                        for k, v in HEADERS.items())]
            await send(message)

        refused = self.refusal(Request(scope))
        if refused is not None:
            await refused(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
