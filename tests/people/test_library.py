"""People across the library: real movies linked with real embeddings and scored against their
ground truth, decisions through the real `moviefaces library` command, the pages in a real
browser, and the linking rules on their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from browser_pages import LOAD_ALL_IMAGES

from moviefaces_dag.evaluation.links import person_identities, score_links
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.people.library import MoviePerson, group_people, keep_library_ids
from moviefaces_dag.people.library import published_library as library_of
from moviefaces_dag.store import OutputRoot

CASTS = ("cast_a", "cast_b")
# The identities both casts show (testdata README and movies/*.json).
SHARED = {"bbt_penny", "bbt_stuart", "donald_rumsfeld", "john_savage", "john_schneider",
          "tony_blair"}


def moviefaces(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=900, env=env)


@pytest.fixture(scope="module")
def casts(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    """cast_a and cast_b, whole, at the defaults; the library built after each."""
    out = tmp_path_factory.mktemp("library") / "out"
    for name in CASTS:
        done = moviefaces("run", testdata / "movies" / f"{name}.mp4", "--output-dir", out)
        assert done.returncode == 0, done.stderr
    return out


def identities(out: Path, testdata: Path) -> dict[tuple[str, int], str]:
    root = OutputRoot(out)
    found = {}
    for name in CASTS:
        truth = GroundTruth.load(testdata / "movies" / f"{name}.json")
        for person, who in person_identities(root.folder(name).published(), truth).items():
            found[(name, person)] = who
    return found


@pytest.mark.slow
def test_the_two_casts_share_six_people_and_nobody_else(casts: Path, testdata: Path) -> None:
    who = identities(casts, testdata)
    score = score_links(library_of(OutputRoot(casts)).people(), who)
    assert score.wrong == [] and score.precision == 1.0
    linked = {who[(m.movie, m.person_id)] for p in library_of(OutputRoot(casts)).people()
              if p.movies == 2 for m in p.members}
    assert linked == SHARED, (linked, score)


@pytest.mark.slow
def test_the_library_pages_in_a_browser(casts: Path, browse) -> None:
    open_page, _ = browse
    page = open_page((casts / "index.html").as_uri())
    cards = page.locator(".library-people li")
    assert cards.count() == 6
    assert all(int(m) == 2 for m in page.eval_on_selector_all(
        ".library-people li", "els => els.map(e => e.dataset.movies)"))
    assert all(width > 0 for _, width in page.evaluate(LOAD_ALL_IMAGES))
    cards.first.locator("a").click()
    page.wait_for_url("**/library/g/*/person-*.html")
    assert page.locator("article.member").count() == 2
    assert all(width > 0 for _, width in page.evaluate(LOAD_ALL_IMAGES))
    met = page.locator("#met + ul.met li")
    assert met.count() >= 1 and "shot" in met.first.inner_text()
    page.locator("article.member h3 a").first.click()  # to that movie's person page
    page.wait_for_url("**/g/*/person-*.html")
    assert page.locator(".grid img").count() >= 1
    page = open_page((casts / "index.html").as_uri())
    page.click("text=Who met whom")
    page.wait_for_url("**/met.html")
    assert page.locator("ul.met li").count() >= 6


@pytest.mark.slow
def test_library_decisions_stick(casts: Path, tmp_path: Path) -> None:
    root = OutputRoot(casts)
    linked = next(p for p in library_of(root).people() if p.movies == 2)
    a, b = linked.members
    assert moviefaces("library", "name", linked.id, "Mr <b>X</b>", "--output-dir",
                      casts).returncode == 0
    assert moviefaces("library", "unlink", a.movie, a.person_id, "--output-dir",
                      casts).returncode == 0
    after = library_of(root).people()
    assert not any({(m.movie, m.person_id) for m in p.members} == {(a.movie, a.person_id),
                                                                  (b.movie, b.person_id)}
                   for p in after)
    done = moviefaces("library", "link", a.movie, a.person_id, b.movie, b.person_id,
                      "--output-dir", casts)
    assert done.returncode == 0, done.stderr
    relinked = next(p for p in library_of(root).people()
                    if (a.movie, a.person_id) in {(m.movie, m.person_id) for m in p.members})
    assert relinked.name == "Mr <b>X</b>" and relinked.movies == 2
    assert "Mr &lt;b&gt;X&lt;/b&gt;" in (casts / "index.html").read_text()
    same = moviefaces("library", "link", "cast_a", 1, "cast_a", 2, "--output-dir", casts)
    assert same.returncode == 1 and "moviefaces people merge" in same.stderr
    out = tmp_path / "library.jsonl"
    assert moviefaces("library", "export", "--out", out, "--output-dir", casts).returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    person = next(line for line in lines if line["type"] == "person" and line["name"])
    assert set(person) == {"type", "id", "name", "other_names", "members", "movies"}
    assert set(person["movies"][0]) == {"movie", "person", "first_seen", "last_seen", "faces",
                                        "screen_time"}
    met = next(line for line in lines if line["type"] == "met")
    assert len(met["people"]) == 2 and met["shots"] >= 1


# the rules, on their own ------------------------------------------------------------------------
def person(movie: str, pid: int, vector: np.ndarray, name: str | None = None) -> MoviePerson:
    unit = vector / np.linalg.norm(vector)
    return MoviePerson(movie=movie, person_id=pid, name=name, model="sface-test", faces=5,
                       screen_time=5.0, first_seen=0.0, last_seen=4.0, page="p", best_face=None,
                       centroid=unit.astype(np.float32),
                       exemplars=np.stack([unit] * 3).astype(np.float32))


def test_a_library_person_never_holds_two_people_of_one_movie() -> None:
    axis = np.eye(8)
    people = [person("m1", 1, axis[0]), person("m1", 2, axis[0] + 0.01 * axis[1]),
              person("m2", 1, axis[0]), person("m3", 7, axis[3])]
    groups, _, stale = group_people(people, [])
    movies_per_group = [[people[n].movie for n in g] for g in groups]
    assert all(len(set(ms)) == len(ms) for ms in movies_per_group)
    assert sorted(len(g) for g in groups) == [1, 1, 2] and stale == []
    # The user's links come first (m1's person 2, not 1, is m2's), and they too never join two
    # people of one movie: a second link that would is reported, not applied.
    forced = [{"op": "link", "movie": "m1", "person": 2, "other_movie": "m2", "other": 1},
              {"op": "link", "movie": "m1", "person": 1, "other_movie": "m2", "other": 1}]
    groups, _, stale = group_people(people, forced)
    assert sorted(sorted(people[n].ref for n in g) for g in groups)[1] == [("m1", 2),
                                                                         ("m2", 1)]
    assert len(stale) == 1 and "two people of one movie" in stale[0]


def test_other_recognisers_are_never_linked() -> None:
    axis = np.eye(8)
    a, b = person("m1", 1, axis[0]), person("m2", 1, axis[0])
    b.model = "w600k_mbf"
    groups, _, _ = group_people([a, b], [])
    assert len(groups) == 2


def test_library_ids_stay_with_their_people() -> None:
    before = {("m1", 1): 5, ("m2", 3): 5, ("m3", 2): 9}
    groups = [[("m1", 1), ("m2", 3), ("m4", 1)], [("m3", 2)], [("m5", 8)]]
    assert keep_library_ids(groups, before, next_id=10) == [5, 9, 10]
