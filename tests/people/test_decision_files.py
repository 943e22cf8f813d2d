"""Damaged decision files and decisions made while a run holds the movie, through the real
`moviefaces` command: one line naming the file and the entry, nothing appended, the published
result readable; a decision during a run is applied once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moviefaces_dag.core.faults import ENV as FAULT
from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow
KEY = "cast_b"


def moviefaces(*args, fault: str | None = None, wait: bool = True):
    env = {k: v for k, v in os.environ.items()
           if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    env.update({FAULT: fault} if fault else {})
    command = [sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    out = tmp_path_factory.mktemp("files") / "out"
    done = moviefaces("run", testdata / "movies" / f"{KEY}.mp4", "--duration", "8",
                      "--output-dir", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def out(base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(base, copy, symlinks=True)
    return copy


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


def _stopped(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def test_a_decision_during_a_run_is_applied_once(out: Path, testdata: Path) -> None:
    movie = testdata / "movies" / f"{KEY}.mp4"
    person = OutputRoot(out).folder(KEY).published().people()[0].person_id
    run = moviefaces("run", movie, "--duration", "8", "--force", "--output-dir", out,
                     fault="during:face_detections:STOP", wait=False)
    try:
        deadline = time.monotonic() + 120
        while not _stopped(run.pid):
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
