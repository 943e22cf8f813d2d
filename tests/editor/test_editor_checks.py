"""The shared checks (people/checks.py) on a small real store, and the background persister's
coalescing, with real threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from synthetic_store import build_movie

from moviefaces_dag.editor.actions import movie_action
from moviefaces_dag.editor.background import Persister
from moviefaces_dag.editor.views import movie_state
from moviefaces_dag.people.checks import Grouping, RefusedError, clean_name
from moviefaces_dag.people.decisions import Decisions

HOLD = """import sys
from moviefaces_dag.store import MovieFolder
with MovieFolder(sys.argv[1]).writing("a run"):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture()
def movie(tmp_path):
    built = build_movie(tmp_path / "out")
    built.publish()
    return built


def test_the_checks_refuse_what_the_command_line_refuses(movie) -> None:
    grouping = Grouping.published(movie.folder)
    with pytest.raises(RefusedError, match="has no person 99"):
        grouping.person(99)
    with pytest.raises(RefusedError, match="cannot be merged with itself"):
        grouping.check_merge(3, 3)
    with pytest.raises(RefusedError, match="are both in the frame at"):
        grouping.check_merge(3, 1)  # identities a and b share frames 5-9
    one_of_1 = next(f for f, p in grouping.assignment.items() if p == 1)
    with pytest.raises(RefusedError, match=f"face {one_of_1} is not person 3's"):
        grouping.check_split(3, [one_of_1])
    with pytest.raises(RefusedError, match="is already in the frame at"):
        grouping.check_assign(3, [one_of_1])
    with pytest.raises(RefusedError, match="has no face 99999"):
        grouping.face_list([99999])
    with pytest.raises(RefusedError, match="cannot be empty"):
        clean_name("  ")


def test_two_faces_of_one_frame_never_join_one_person(movie) -> None:
    grouping = Grouping.published(movie.folder)
    by_frame: dict[int, list[int]] = {}
    for face in grouping.faces.values():
        by_frame.setdefault(face.frame_id, []).append(face.id)
    pair = next(ids for ids in by_frame.values() if len(ids) == 2)
    with pytest.raises(RefusedError, match="are in one frame"):
        grouping.check_split(None, pair)


def test_an_action_shows_at_once_and_undo_of_a_merge_gives_both_ids_back(movie) -> None:
    root = movie.root
    before = {p.id: len(p.faces) for p in movie_state(root, movie.key).people}
    assert movie_action(root, movie.key, "merge", {"person": 4, "other": 2})[1] == [movie.key]
    after = {p.id: len(p.faces) for p in movie_state(root, movie.key).people}
    assert 2 not in after and after[4] == before[4] + before[2]
    assert movie_action(root, movie.key, "undo", {})[0].startswith("undone: ")
    assert {p.id: len(p.faces) for p in movie_state(root, movie.key).people} == before
    ops = [d["op"] for d in Decisions(movie.folder.path).entries()]
    assert ops == ["merge", "undo"]  # the same file the command line writes


def test_requests_during_a_persist_are_coalesced_into_one_more_run() -> None:
    runs: list[float] = []
    gate = threading.Event()

    def job() -> None:
        runs.append(time.monotonic())
        gate.wait(5)

    persister = Persister("movie", job)
    persister.request()
    time.sleep(0.1)
    for _ in range(5):
        persister.request()  # while the first run holds
    assert persister.state()["state"] == "running"
    gate.set()
    assert persister.wait(10)
    assert len(runs) == 2 and persister.state()["done"] == 6


def test_a_failing_persist_says_why_in_one_line() -> None:
    def job() -> None:
        raise OSError("No space left on device\nmore detail")

    persister = Persister("movie", job)
    persister.request()
    assert persister.wait(10)
    assert persister.state()["state"] == "error"
    assert persister.state()["message"] == "No space left on device"


def test_a_movie_held_by_a_run_is_queued_for_that_run(movie) -> None:
    from moviefaces_dag.cli.common import dagster_instance
    from moviefaces_dag.defs.partitions import MOVIES_PARTITION
    from moviefaces_dag.editor.persist import persist_movie

    dagster_instance(movie.output_dir).add_dynamic_partitions(MOVIES_PARTITION, [movie.key])
    persister = Persister(movie.key, lambda: persist_movie(movie.root, movie.folder))
    run = subprocess.Popen(  # another process is this movie's writer (a run)
        [sys.executable, "-c", HOLD, str(movie.folder.path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline().strip() == "held"
        persister.request()
        assert persister.wait(60)
    finally:
        run.communicate("", timeout=30)
    assert persister.state()["state"] == "queued", persister.state()
    assert "the run that holds the movie applies it" in persister.state()["message"]
