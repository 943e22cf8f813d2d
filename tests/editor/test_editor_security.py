"""The editor's guard, through a real `moviefaces serve` process on a small real store: a
change without the token, from another site or through another host name is refused (403) and
changes nothing; images are served from the output folder only; names are escaped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from synthetic_store import build_movie

from moviefaces_dag.editor.app import safe_file

ATTACK_NAME = '<script>alert(1)</script> & "x"'


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    movie = build_movie(tmp_path_factory.mktemp("editor_security"))
    movie.publish()
    return movie.output_dir


def start(output: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "moviefaces_dag.cli", "serve", "--port", "0", "--output-dir",
         str(output), *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("open "):
            return process, line.split()[1]
    process.wait(10)
    raise AssertionError(f"serve printed no address: {process.stderr.read()}")


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[tuple[str, str, httpx.Client]]:
    process, url = start(store)
    base, token = url.split("/?token=")
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        assert client.get(f"/?token={token}").status_code == 200  # sets the cookie
        yield base, token, client
    process.send_signal(signal.SIGINT)
    process.wait(20)


def decisions_file(store: Path) -> bytes | None:
    path = store / "film" / "decisions.json"
    return path.read_bytes() if path.exists() else None


def post(client: httpx.Client, path: str, body: dict, **headers: str) -> httpx.Response:
    return client.post(path, json=body, headers=headers)


def test_the_printed_address_opens_the_library_and_the_movie(server) -> None:
    base, token, client = server
    assert base.startswith("http://127.0.0.1:")
    page = client.get("/movie/film")
    assert page.status_code == 200 and "Person 3" in page.text
    cookie = page.request.headers["cookie"]
    assert cookie.startswith("moviefaces_editor_")
    set_cookie = httpx.get(f"{base}/?token={token}").headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert page.headers["x-frame-options"] == "DENY"


def test_pages_need_the_token(server) -> None:
    base, _token, _client = server
    assert httpx.get(f"{base}/movie/film").status_code == 403
    assert httpx.get(f"{base}/?token=wrong-token").status_code == 403


@pytest.mark.parametrize("case", ["no token", "wrong token", "foreign origin", "no origin",
                                  "foreign referer", "foreign host", "rebound host"])
def test_a_change_without_token_origin_or_host_is_refused(server, store: Path, case: str
                                                          ) -> None:
    base, token, client = server
    port = base.rsplit(":", 1)[1]
    headers = {"X-Moviefaces-Token": token, "Origin": base}
    if case == "no token":
        del headers["X-Moviefaces-Token"]
    elif case == "wrong token":
        headers["X-Moviefaces-Token"] = token[:-1] + ("x" if token[-1] != "x" else "y")
    elif case == "foreign origin":
        headers["Origin"] = "http://evil.example"
    elif case == "no origin":
        del headers["Origin"]
    elif case == "foreign referer":
        del headers["Origin"]
        headers["Referer"] = "http://evil.example/page"
    elif case == "foreign host":
        headers["Host"] = f"evil.example:{port}"
    elif case == "rebound host":  # a DNS-rebinding name for 127.0.0.1, its own origin
        headers["Host"] = f"attacker.test:{port}"
        headers["Origin"] = f"http://attacker.test:{port}"
    before = decisions_file(store)
    answer = post(client, "/api/movie/film/name", {"person": 3, "name": "Mallory"}, **headers)
    assert answer.status_code == 403, answer.text
    assert decisions_file(store) == before
    assert "Mallory" not in client.get("/movie/film").text


def test_a_change_with_token_and_origin_is_recorded_and_names_are_escaped(server, store: Path
                                                                          ) -> None:
    base, token, client = server
    answer = post(client, "/api/movie/film/name", {"person": 3, "name": ATTACK_NAME},
                  **{"X-Moviefaces-Token": token, "Origin": base})
    assert answer.status_code == 200 and answer.json()["ok"], answer.text
    assert json.loads(decisions_file(store))["decisions"][-1]["name"] == ATTACK_NAME
    for path in ("/movie/film", "/movie/film/person/3", "/movie/film/history", "/"):
        text = client.get(path).text
        assert "<script>alert(1)" not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34;" in client.get(
        "/movie/film/person/3").text
    # Referer instead of Origin (older browsers) is accepted when it is the editor's own page.
    answer = post(client, "/api/movie/film/undo", {},
                  **{"X-Moviefaces-Token": token, "Referer": f"{base}/movie/film"})
    assert answer.status_code == 200, answer.text


def test_a_refused_decision_says_why_in_one_line(server, store: Path) -> None:
    base, token, client = server
    before = decisions_file(store)
    answer = post(client, "/api/movie/film/merge", {"person": 3, "other": 1},
                  **{"X-Moviefaces-Token": token, "Origin": base})  # seen in one frame
    assert answer.status_code == 409
    assert "are both in the frame at" in answer.json()["error"]
    assert decisions_file(store) == before


@pytest.mark.parametrize("path", ["../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                                  "/etc/passwd", "%2Fetc%2Fpasswd", "film/../../outside.jpg",
                                  "film/escape.jpg", "film/work.sqlite"])
def test_images_come_from_the_output_folder_only(server, store: Path, path: str) -> None:
    _base, _token, client = server
    (store.parent / "outside.jpg").write_bytes(b"\xff\xd8secret")
    link = store / "film" / "escape.jpg"
    if not link.is_symlink():
        os.symlink(store.parent / "outside.jpg", link)
    answer = client.get(f"/files/{path}")
    assert answer.status_code == 404 and b"secret" not in answer.content
    assert safe_file(store, path.replace("%2e", ".").replace("%2F", "/")) is None


def test_an_image_inside_is_served(server, store: Path) -> None:
    _base, _token, client = server
    crop = next((store / "film" / "faces").rglob("*.jpg")).relative_to(store)
    answer = client.get(f"/files/{crop}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"


def test_another_host_needs_a_token(store: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", "serve", "--host",
                           "0.0.0.0", "--port", "0", "--output-dir", str(store)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "moviefaces: error: --host 0.0.0.0 lets other machines in: give a --token of your own"]
