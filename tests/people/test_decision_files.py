"""Damaged decision files and decisions made while a run holds the movie, through the real
`moviefaces` command: one line naming the file and the entry, nothing appended, the published
result readable; a decision during a run is applied once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from commands import copy_of, moviefaces, stopped

from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow
KEY = "cast_b"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    out = tmp_path_factory.mktemp("files") / "out"
    done = moviefaces("run", testdata / "movies" / f"{KEY}.mp4", "--duration", "8",
                      "--output-dir", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def out(base: Path, tmp_path: Path) -> Path:
    return copy_of(base, tmp_path)


DAMAGED = {
    "truncated": ('{"version": 2, "decisions": [{"op": "name", "person": 1, "na', "damaged"),
    "a list": ("[]", "expected an object"),
    "a wrong entry": ('{"version": 2, "decisions": [{"op": "merge", "person": 1}]}',
                      "decision 1: other"),
    "a wrong type": ('{"version": 2, "decisions": [7]}', "decision 1: an entry must be"),
    "a wrong field type": ('{"version": 2, "decisions": [{"op": "hide", "person": "x"}]}',
                           "decision 1: person"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_a_damaged_decisions_file_is_named_and_nothing_is_appended(out: Path, testdata: Path,
                                                                   damage: str) -> None:
    text, says = DAMAGED[damage]
    path = out / KEY / "decisions.json"
    path.write_text(text)
    published = OutputRoot(out).folder(KEY).published_generation()
    for command in (["people", "name", KEY, "1", "Ann"], ["people", "hide", KEY, "1"],
                    ["people", "undo", KEY],
                    ["run", testdata / "movies" / f"{KEY}.mp4", "--duration", "8"]):
        done = moviefaces(*command, "--output-dir", out)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, (command, done.stderr)
        assert str(path) in lines[0] and says in lines[0], lines[0]
    assert path.read_text() == text
    assert OutputRoot(out).folder(KEY).published_generation() == published
    listed = moviefaces("people", "list", KEY, "--output-dir", out)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) > 1


def test_a_decision_during_a_run_is_applied_once(out: Path, testdata: Path) -> None:
    movie = testdata / "movies" / f"{KEY}.mp4"
    person = OutputRoot(out).folder(KEY).published().people()[0].person_id
    run = moviefaces("run", movie, "--duration", "8", "--force", "--output-dir", out,
                     fault="during:face_detections:STOP", wait=False)
    try:
        deadline = time.monotonic() + 120
        while not stopped(run.pid):
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.2)
        done = moviefaces("people", "name", KEY, person, "Ann", "--output-dir", out)
        assert done.returncode == 0, done.stderr
        assert "being processed" in done.stdout and "that run applies it" in done.stdout
    finally:
        os.kill(run.pid, signal.SIGCONT)
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert OutputRoot(out).folder(KEY).published().names() == {person: "Ann"}
    assert len(Decisions(out / KEY).entries()) == 1
    again = moviefaces("run", movie, "--duration", "8", "--output-dir", out)
    assert again.returncode == 0 and "up to date" in again.stdout
