"""A decision never breaks a page: killed at any point of its republish (the movie's people, its
report, the library), every movie's and the library's links and images resolve, and the next
`moviefaces run` brings everything up to date with the decision applied once."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from urllib.parse import unquote

import pytest
from commands import copy_of, moviefaces

from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.store import OutputRoot
from moviefaces_dag.store.generations import MAIN_PAGE

pytestmark = pytest.mark.slow
MOVIES = ("cast_a", "cast_b")


@pytest.fixture(scope="module")
def base(processed) -> Path:
    """Both movies processed once a session (tests/editor/test_editor_browser.py starts from
    the same); each test changes a copy."""
    return processed(MOVIES, "--duration", "20").out


@pytest.fixture
def out(base: Path, tmp_path: Path) -> Path:
    return copy_of(base, tmp_path)


def every_link_resolves(out: Path) -> int:
    """Every relative link and image of every page in the output folder leads to a file."""
    checked = 0
    for page in out.rglob("*.html"):
        if "dagster_home" in page.parts or page.name == MAIN_PAGE or any(
                part.startswith(".") for part in page.relative_to(out).parts):
            # A generation's main page is read where it is installed (index.html); a staging
            # folder left by a kill is linked from nowhere.
            continue
        for link in re.findall(r'(?:src|href)="([^"#:?]+)["#?]', page.read_text()):
            assert (page.parent / unquote(link)).exists(), (page.relative_to(out), link)
            checked += 1
    return checked


POINTS = ("after:face_clusters", "publish:renamed:cast_b", "publish:switched:cast_b",
          "written:index.html", "publish:staged:library", "publish:switched:library")


@pytest.mark.parametrize("point", POINTS)
def test_a_decision_killed_anywhere_breaks_no_page(out: Path, testdata: Path,
                                                   point: str) -> None:
    person = OutputRoot(out).folder("cast_b").published().people()[0].person_id
    killed = moviefaces("people", "name", "cast_b", person, "Zelda", "--output-dir", out,
                        fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert every_link_resolves(out) > 50
    assert len(Decisions(out / "cast_b").load()) == 1  # recorded before the regrouping
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "20",
                      "--output-dir", out)
    assert done.returncode == 0, done.stderr
    assert every_link_resolves(out) > 50
    assert OutputRoot(out).folder("cast_b").published().names() == {person: "Zelda"}
    assert "Zelda" in (out / "index.html").read_text()
    assert len(Decisions(out / "cast_b").load()) == 1
    again = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "20",
                       "--output-dir", out)
    assert "up to date" in again.stdout


def test_after_a_decision_the_library_links_the_new_generation(out: Path) -> None:
    folder = OutputRoot(out).folder("cast_b")
    before = folder.published_generation()
    person = folder.published().people()[0].person_id
    done = moviefaces("people", "name", "cast_b", person, "Zelda", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    assert folder.published_generation() != before
    assert every_link_resolves(out) > 50
    assert not (folder.path / "g" / before).exists()  # pruned once nothing points at it
    assert f"g/{folder.published_generation()}/" in (out / "index.html").read_text() or \
        any(folder.published_generation() in p.read_text()
            for p in (out / "library").rglob("*.html"))
