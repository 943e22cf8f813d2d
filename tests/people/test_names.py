"""One name per person: a name given in a movie or in the library reaches the movie's report,
the library's pages, `people list`, `library list`, every export format and library.jsonl; two
names for one library person are shown as a conflict, never dropped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from commands import copy_of
from commands import moviefaces as run_command

from moviefaces_dag.people.library import published_library
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow


def moviefaces(*args) -> subprocess.CompletedProcess:
    done = run_command(*args)
    assert done.returncode == 0, (args, done.stderr)
    return done


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    out = tmp_path_factory.mktemp("names") / "out"
    for movie in ("cast_a", "cast_b"):
        moviefaces("run", testdata / "movies" / f"{movie}.mp4", "--duration", "30",
                   "--output-dir", out)
    return out


@pytest.fixture
def out(base: Path, tmp_path: Path) -> Path:
    return copy_of(base, tmp_path)


def linked_pair(out: Path) -> tuple[int, tuple[str, int], tuple[str, int]]:
    person = next(p for p in published_library(OutputRoot(out)).people() if p.movies == 2)
    a, b = sorted(person.members, key=lambda m: m.movie)
    return person.id, (a.movie, a.person_id), (b.movie, b.person_id)


def everywhere(out: Path, movie: str, person: int, name: str, tmp_path: Path) -> None:
    """`name` is the person's name in every view."""
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in (out / movie / "index.html").read_text()
    assert escaped in (out / "index.html").read_text()
    listed = moviefaces("people", "list", movie, "--output-dir", out).stdout
    assert any(line.split()[0] == str(person) and line.endswith(name)
               for line in listed.splitlines()[1:])
    assert name in moviefaces("library", "list", "--output-dir", out).stdout
    for fmt in ("folders", "yolo", "jsonl"):
        moviefaces("export", movie, "--format", fmt, "--out", tmp_path / fmt, "--output-dir", out)
    assert name in json.loads((tmp_path / "folders" / "people.json").read_text()
                              ).get(f"person_{person:03d}", {}).values()
    assert name in (tmp_path / "yolo" / "classes.txt").read_text().splitlines()
    assert any(json.loads(line).get("name") == name
               for line in (tmp_path / "jsonl" / "dataset.jsonl").read_text().splitlines())
    moviefaces("library", "export", "--out", tmp_path / "library.jsonl", "--output-dir", out)
    assert any(json.loads(line).get("name") == name
               for line in (tmp_path / "library.jsonl").read_text().splitlines())


def test_a_name_given_in_a_movie_names_its_library_person(out: Path, tmp_path: Path) -> None:
    _, (movie_a, a), (movie_b, b) = linked_pair(out)
    moviefaces("people", "name", movie_a, a, "Ann <b> & co", "--output-dir", out)
    everywhere(out, movie_a, a, "Ann <b> & co", tmp_path / "a")
    everywhere(out, movie_b, b, "Ann <b> & co", tmp_path / "b")


def test_a_name_given_in_the_library_names_every_member(out: Path, tmp_path: Path) -> None:
    library_id, (movie_a, a), (movie_b, b) = linked_pair(out)
    moviefaces("library", "name", library_id, "Bea", "--output-dir", out)
    everywhere(out, movie_a, a, "Bea", tmp_path / "a")
    everywhere(out, movie_b, b, "Bea", tmp_path / "b")


def test_two_names_for_one_library_person_are_a_conflict(out: Path, tmp_path: Path) -> None:
    _, (movie_a, a), (movie_b, b) = linked_pair(out)
    moviefaces("library", "unlink", movie_b, b, "--output-dir", out)
    moviefaces("people", "name", movie_a, a, "Cat", "--output-dir", out)
    moviefaces("people", "name", movie_b, b, "Dora", "--output-dir", out)
    moviefaces("library", "link", movie_a, a, movie_b, b, "--output-dir", out)
    person = next(p for p in published_library(OutputRoot(out)).people() if p.movies == 2
                  and (movie_a, a) in {(m.movie, m.person_id) for m in p.members})
    assert {person.name, *person.other_names} == {"Cat", "Dora"}
    listed = moviefaces("library", "list", "--output-dir", out).stdout
    assert "also named" in listed and "Cat" in listed and "Dora" in listed
    page = next((out / "library").rglob(f"person-{person.id:04d}.html")).read_text()
    assert "Also named" in page
    moviefaces("people", "name", movie_b, b, "Cat", "--output-dir", out)  # resolves it
    resolved = next(p for p in published_library(OutputRoot(out)).people() if p.id == person.id)
    assert (resolved.name, resolved.other_names) == ("Cat", ())
    assert "also named" not in moviefaces("library", "list", "--output-dir", out).stdout


def test_undoing_a_name_takes_it_back_everywhere(out: Path, tmp_path: Path) -> None:
    _, (movie_a, a), (movie_b, b) = linked_pair(out)
    moviefaces("people", "name", movie_a, a, "Gus", "--output-dir", out)
    assert "Gus" in (out / movie_b / "index.html").read_text()
    moviefaces("people", "undo", movie_a, "--output-dir", out)
    for page in (out / movie_a / "index.html", out / movie_b / "index.html", out / "index.html"):
        assert "Gus" not in page.read_text(), page
    assert "Gus" not in moviefaces("people", "list", movie_b, "--output-dir", out).stdout
