"""The library brought up to date incrementally: only movies published anew are read, only pages
whose content changed are rendered, and the result is the full build's, byte for byte. Real
published movie stores (synthetic embeddings, benchmarks/bench_library.py's movies), real
library stores and pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moviefaces_dag.core.faults import ENV
from moviefaces_dag.people.library import library_path, published_library
from moviefaces_dag.pipeline.library import publish_library
from moviefaces_dag.store import OutputRoot
from moviefaces_dag.store.generations import Generations
from moviefaces_dag.store.library_db import ENTRIES_INDEX, LIBRARY_PAGE

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_library import DIM, make_movie, rename_person  # noqa: E402

MOVIES = 6
PEOPLE = 8
POOL = 16  # identities: most people are in several movies


@pytest.fixture
def root(tmp_path: Path) -> OutputRoot:
    rng = np.random.default_rng(7)
    pool = rng.normal(size=(POOL, DIM))
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    out = OutputRoot(tmp_path / "out")
    out.path.mkdir()
    for n in range(MOVIES):
        make_movie(out, n, PEOPLE, 3, pool, rng)
    publish_library(out)
    return out


def generation_folder(root: OutputRoot) -> Path:
    generations = Generations(library_path(root), root.path / LIBRARY_PAGE)
    return generations.path(generations.current() or "")


def pages(root: OutputRoot) -> dict[str, bytes]:
    """Every library page (the main page at its own address too), with the library
    generation's name, which only the main page's links hold, made neutral."""
    folder = generation_folder(root)
    found = {p.name: p.read_bytes() for p in sorted(folder.glob("*.html"))}
    found["<root>/index.html"] = (root.path / LIBRARY_PAGE).read_bytes()
    return {name: page.replace(folder.name.encode(), b"GENERATION")
            for name, page in found.items()}


def store(root: OutputRoot) -> tuple:
    library = published_library(root)
    assert library is not None
    return library.people(), library.met(), library.next_id()


def ids(root: OutputRoot) -> dict[tuple[str, int], int]:
    library = published_library(root)
    assert library is not None
    return {(m.movie, m.person_id): p.id for p in library.people() for m in p.members}


def test_an_incremental_build_equals_a_full_one(root: OutputRoot, tmp_path: Path) -> None:
    rename_person(root, "movie0002", 1, "Ada Renamed")
    result = publish_library(root)
    assert (result["movies_read"], result["movies_kept"]) == (1, MOVIES - 1)
    assert result["pages_kept"] > 0
    incremental_pages, incremental_store = pages(root), store(root)
    assert b"Ada Renamed" in incremental_pages["<root>/index.html"]
    # Built again whole, from the same previous library ...
    full = publish_library(root, full=True)
    assert (full["movies_read"], full["pages_kept"]) == (MOVIES, 0)
    assert store(root) == incremental_store
    assert pages(root) == incremental_pages
    # ... and from scratch, with no library at all (the ids are the same: nobody moved).
    scratch = OutputRoot(tmp_path / "scratch")
    shutil.copytree(root.path, scratch.path, symlinks=True)
    shutil.rmtree(library_path(scratch))
    (scratch.path / LIBRARY_PAGE).unlink()
    publish_library(scratch)
    assert store(scratch) == incremental_store
    assert pages(scratch) == incremental_pages


def test_a_renamed_person_changes_exactly_the_pages_that_show_them(root: OutputRoot) -> None:
    before_ids, before_pages = ids(root), pages(root)
    inodes = {p.name: p.stat().st_ino for p in generation_folder(root).glob("*.html")}
    rename_person(root, "movie0003", 2, "Ben Renamed")
    publish_library(root)
    after = pages(root)
    assert ids(root) == before_ids  # ids stay with their people
    changed = {name for name in after if after[name] != before_pages.get(name)}
    library = published_library(root)
    assert library is not None
    renamed = next(p for p in library.people() for m in p.members
                   if (m.movie, m.person_id) == ("movie0003", 2))
    assert renamed.name == "Ben Renamed"
    assert f"person-{renamed.id:04d}.html" in changed
    # The movie's people, and those who met them, are the only people whose pages changed:
    # every page of their movie links to its new generation.
    in_movie = {p.id for p in library.people() if any(m.movie == "movie0003" for m in p.members)}
    met = {b if a in in_movie else a for a, b, _movie, _shots in library.met()
           if a in in_movie or b in in_movie}
    person_pages = {name for name in changed if name.startswith("person-")}
    assert person_pages <= {f"person-{n:04d}.html" for n in in_movie | met}
    assert person_pages, "nobody's page changed"
    # An unchanged page is the previous generation's file, not rendered again.
    folder = generation_folder(root)
    for name in after:
        if name.startswith("person-") and name not in changed:
            assert (folder / name).stat().st_ino == inodes[name]
    unchanged = [n for n in after if n.startswith("person-") and n not in changed]
    assert unchanged, "every person page was rendered again"


def test_a_removed_movie_drops_out(root: OutputRoot) -> None:
    before = ids(root)
    shutil.rmtree(root.path / "movie0001")
    result = publish_library(root)
    assert (result["movies_read"], result["movies_kept"]) == (0, MOVIES - 1)
    assert all(movie != "movie0001" for movie, _person in ids(root))
    manifest = json.loads((generation_folder(root) / ENTRIES_INDEX).read_text())
    assert "movie0001" not in manifest["movies"]
    assert not any(b"movie0001" in page for page in pages(root).values())
    # Those whose library person kept most of its members keep its id.
    kept = {ref: lid for ref, lid in ids(root).items() if before[ref] == lid}
    assert len(kept) >= len(ids(root)) * 0.8
    incremental_pages, incremental_store = pages(root), store(root)
    publish_library(root, full=True)
    assert (pages(root), store(root)) == (incremental_pages, incremental_store)


def test_a_movie_added_is_read_and_linked(root: OutputRoot) -> None:
    rng = np.random.default_rng(7)
    pool = rng.normal(size=(POOL, DIM))
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    make_movie(root, MOVIES, PEOPLE, 3, pool, np.random.default_rng(99))
    result = publish_library(root)
    assert (result["movies_read"], result["movies_kept"]) == (1, MOVIES)
    assert any(movie == f"movie{MOVIES:04d}" for movie, _person in ids(root))
    incremental_pages, incremental_store = pages(root), store(root)
    publish_library(root, full=True)
    assert (pages(root), store(root)) == (incremental_pages, incremental_store)


def test_a_killed_build_leaves_the_previous_library_whole(root: OutputRoot) -> None:
    before_pages, before_store = pages(root), store(root)
    rename_person(root, "movie0004", 1, "Cleo Renamed")
    env = {**os.environ, ENV: "publish:staged:library", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from moviefaces_dag.pipeline.library import "
         "publish_library; from moviefaces_dag.store import OutputRoot; "
         "publish_library(OutputRoot(sys.argv[1]))", str(root.path)],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr
    assert (pages(root), store(root)) == (before_pages, before_store)
    # The next build reads the movie again and ends where a full build does.
    result = publish_library(root)
    assert result["movies_read"] == 1
    incremental_pages, incremental_store = pages(root), store(root)
    publish_library(root, full=True)
    assert (pages(root), store(root)) == (incremental_pages, incremental_store)


def test_damaged_kept_entries_are_read_again(root: OutputRoot) -> None:
    folder = generation_folder(root)
    manifest = json.loads((folder / ENTRIES_INDEX).read_text())
    damaged = folder / manifest["movies"]["movie0000"]["file"]
    data = damaged.read_bytes()
    damaged.unlink()  # the file is shared with nothing else once unlinked
    damaged.write_bytes(data[:100])
    result = publish_library(root)
    assert result["movies_read"] == 1
    incremental_pages, incremental_store = pages(root), store(root)
    publish_library(root, full=True)
    assert (pages(root), store(root)) == (incremental_pages, incremental_store)
