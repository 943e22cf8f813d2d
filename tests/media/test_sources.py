"""Movie locations: a movie under the movies root is registered relative to it, so each machine
opens it under its own mount; other movies keep their path or URL."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from moviefaces_dag.core.scratch import Scratch
from moviefaces_dag.media.sources import MovieSources
from moviefaces_dag.media.video import MovieError


def sources(movies_dir: Path | None, tmp_path: Path) -> MovieSources:
    return MovieSources(str(movies_dir) if movies_dir else None,
                        Scratch(tmp_path / "scratch", 10**9, math.inf))


def test_a_movie_under_the_movies_root_is_found_under_each_mount(tmp_path: Path) -> None:
    for machine in ("a", "b"):
        (tmp_path / machine / "films" / "2024").mkdir(parents=True)
        (tmp_path / machine / "films" / "2024" / "night.mp4").write_bytes(b"movie")
    here, there = (sources(tmp_path / m / "films", tmp_path) for m in ("a", "b"))
    location = here.location(tmp_path / "a" / "films" / "2024" / "night.mp4")
    assert location == "movies:2024/night.mp4"
    assert there.local(location) == tmp_path / "b" / "films" / "2024" / "night.mp4"
    with there.opened(location) as path:
        assert path.read_bytes() == b"movie"
    assert there.identity("movies:2024/gone.mp4") is None


def test_other_movies_keep_their_path_or_url(tmp_path: Path) -> None:
    (tmp_path / "films").mkdir()
    elsewhere = tmp_path / "elsewhere.mp4"
    elsewhere.write_bytes(b"movie")
    machine = sources(tmp_path / "films", tmp_path)
    assert machine.location(elsewhere) == str(elsewhere.resolve())
    assert machine.location("s3://films/night.mp4") == "s3://films/night.mp4"


def test_a_machine_without_the_movies_root_says_which_setting(tmp_path: Path) -> None:
    with pytest.raises(MovieError, match=r"^movies:night.mp4: .* store.movies_dir "
                                         r"\(\$MOVIEFACES_MOVIES_DIR\)"):
        sources(None, tmp_path).local("movies:night.mp4")
