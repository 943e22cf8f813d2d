"""A renamed movie file: once `moviefaces add` or a folder scan notices, the published report's
"play the movie" link opens the file at its new path. Real movie, real CLI, real pages."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from moviefaces_dag.pipeline.watch import scan
from moviefaces_dag.report.views import FRAME_PAGE
from moviefaces_dag.store import OutputRoot
from moviefaces_dag.store.generations import GENERATIONS


def moviefaces(*args: str | Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)


def play_link(out: Path, key: str) -> Path:
    """The file the published frame page's "play the movie" link opens."""
    folder = OutputRoot(out).folder(key)
    page = folder.path / GENERATIONS / folder.published_generation() / FRAME_PAGE
    hrefs = re.findall(r'<a id="play" href="([^"]*)"', page.read_text(encoding="utf-8"))
    assert len(hrefs) == 1, page
    url = urlparse(html.unescape(hrefs[0]))
    assert url.scheme == "file"
    return Path(unquote(url.path))


def test_the_play_link_follows_a_renamed_movie(tmp_path: Path, testdata: Path) -> None:
    movies, out = tmp_path / "movies", tmp_path / "out"
    movies.mkdir()
    first = movies / "cast_b.mp4"
    shutil.copy(testdata / "movies" / "cast_b.mp4", first)
    done = moviefaces("run", first, "--duration", "4", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    assert play_link(out, "cast_b") == first.resolve()

    # `moviefaces add` finds the moved file by its content and says it is the same movie.
    second = movies / "cast b & <friends>.mp4"
    first.rename(second)
    before = OutputRoot(out).folder("cast_b").published_generation()
    added = moviefaces("add", second, "--output-dir", out)
    assert added.returncode == 0, added.stderr
    assert added.stdout.split()[-1] == "cast_b"
    link = play_link(out, "cast_b")
    assert link == second.resolve() and link.is_file()
    folder = OutputRoot(out).folder("cast_b")
    assert folder.published_generation() != before  # the same result, published anew
    assert folder.published().faces() and folder.report_path.is_file()

    # The folder scan (what the sensor runs) sees a rename by size and time, and so do the pages.
    third = movies / "renamed again.mp4"
    second.rename(third)
    found = scan(movies, OutputRoot(out), settle_seconds=0, rejected_before={})
    assert found.renamed == {"cast_b": str(third.resolve())}
    link = play_link(out, "cast_b")
    assert link == third.resolve() and link.is_file()
    # Nothing to follow when nothing moved: the published result stays as it is.
    generation = OutputRoot(out).folder("cast_b").published_generation()
    assert moviefaces("add", third, "--output-dir", out).returncode == 0
    assert OutputRoot(out).folder("cast_b").published_generation() == generation
