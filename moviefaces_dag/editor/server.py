"""Running the editor: a listening socket bound first (so port 0 gives the real port before
anything starts), then uvicorn on it, in the foreground or in a thread (tests, benchmark)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import Editor, create_app


@dataclass
class Running:
    """An editor serving in a thread of this process."""

    url: str  # with the token
    base: str  # scheme, host and port
    token: str
    editor: Editor
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (OSError when it cannot)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def prepare(output_dir: Path, token: str, host: str, port: int
            ) -> tuple[uvicorn.Server, socket.socket, Editor, str]:
    """The server (not started), its socket, the editor, and its base URL."""
    sock = listening_socket(host, port)
    port = sock.getsockname()[1]
    app, editor = create_app(output_dir, token, host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config), sock, editor, base_url(host, port)


def serve_in_thread(output_dir: Path, token: str, host: str = "127.0.0.1", port: int = 0
                    ) -> Running:
    server, sock, editor, base = prepare(output_dir, token, host, port)
    server.install_signal_handlers = lambda: None  # uvicorn < 0.29 spelling; harmless later
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="moviefaces-editor")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return Running(f"{base}/?token={token}", base, token, editor, server, thread)
