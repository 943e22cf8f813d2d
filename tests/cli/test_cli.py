"""The `moviefaces` command end to end: real movies, real models, the real SQLite store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from commands import copy_of

from moviefaces_dag.evaluation.scoring import evaluate_stored, format_table
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.store import OutputRoot

CAST_A_SECONDS = 40


def moviefaces(*args: str | Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)],
        capture_output=True, text=True, timeout=600, env=env,
    )


@pytest.fixture(scope="module")
def cast_a_run(processed) -> tuple[Path, subprocess.CompletedProcess]:
    """The output folder and the run of cast_a's first seconds (once a session: the report's
    browser tests read the same)."""
    done = processed(("cast_a",), "--duration", str(CAST_A_SECONDS))
    return done.out, done.runs[0]


def test_run_prints_summary_and_writes_report(cast_a_run) -> None:
    out, result = cast_a_run
    for label in ["elapsed:", "frames sampled: 40", "faces detected:", "faces embedded:",
                  "people found:", "report:         file://"]:
        assert label in result.stdout
    report = out / "cast_a" / "index.html"
    assert report.is_file() and report.as_uri() in result.stdout


def test_detects_and_groups_cast_a_against_ground_truth(cast_a_run, testdata: Path) -> None:
    out, _ = cast_a_run
    truth = GroundTruth.load(testdata / "movies" / "cast_a.json")
    score = evaluate_stored(OutputRoot(out).folder("cast_a").published(), truth)
    detection, identity = score.detection, score.identity
    assert detection.true_faces >= 40  # 50 true faces in the first 40 s at 1 fps
    assert detection.recall >= 0.9, format_table(score)
    # Clean frontal faces: every identity is one person, and no person holds two identities.
    # (People found may exceed the cast: bystanders in the source photos are unlabelled faces.)
    assert identity.split == {} and identity.merged == {}, format_table(score)
    assert identity.same_frame_merges == 0 and identity.bcubed.f1 >= 0.9, format_table(score)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, cast_a: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.mp4").write_text("this is not a movie\n")
    (folder / "empty.mp4").write_bytes(b"")
    data = cast_a.read_bytes()
    (folder / "cut_index.mp4").write_bytes(data[: len(data) // 2])
    (folder / "a_directory.mp4").mkdir()
    return {
        "missing": (folder / "nope.mp4", "no such file"),
        "directory": (folder / "a_directory.mp4", "is a directory"),
        "text": (folder / "notes.mp4", "not a readable video"),
        "empty": (folder / "empty.mp4", "empty"),
        "cut index": (folder / "cut_index.mp4", "not a readable video"),
    }


def _snapshot(out: Path) -> tuple[list[str], list]:
    """The registered movies, and cast_a's published rows."""
    root = OutputRoot(out)
    db = root.folder("cast_a").published().db_path
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return root.registered_keys(), [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                                        for t in ("frames", "faces", "people")]
    finally:
        conn.close()


# A truncated movie is no bad input: what decodes is processed (tests/test_cli_first_hour.py).
BAD_CASES = ["missing", "directory", "text", "empty", "cut index"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_fails_clearly_and_keeps_the_store(cast_a_run, bad_inputs, case: str,
                                                      tmp_path: Path) -> None:
    out = copy_of(cast_a_run[0], tmp_path)  # the session's result stays as it was, whatever
    path, problem = bad_inputs[case]
    before = _snapshot(out)
    result = moviefaces("run", path, "--output-dir", out)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and problem in lines[0], lines[0]
    assert _snapshot(out) == before


def test_movie_without_faces_gets_a_report_saying_so(tmp_path: Path, testdata: Path) -> None:
    movie = testdata / "negatives" / "videos" / "pyfeat_no_face.mp4"
    result = moviefaces("run", movie, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "people found:   0" in result.stdout
    html = (tmp_path / "pyfeat_no_face" / "index.html").read_text()
    assert "No faces were found" in html
