"""`moviefaces eval` end to end on a real movie with its ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from moviefaces_dag.cli import main


@pytest.mark.slow
def test_eval_runs_the_pipeline_then_reuses_its_results(testdata, tmp_path, capsys):
    movie, truth = testdata / "movies" / "cast_a.mp4", testdata / "movies" / "cast_a.json"
    out = tmp_path / "out"
    assert main(["eval", str(movie), "--truth", str(truth), "--fps", "0.25",
                 "--output-dir", str(out), "--json", str(tmp_path / "score.json")]) == 0
    table = capsys.readouterr().out
    assert "BCubed P / R / F1" in table and "same-frame merges" in table
    score = json.loads((tmp_path / "score.json").read_text())
    # cast_a is the easy movie: clear faces, 3-8 s shots
    assert score["frames"] == 19
    assert score["detection"]["recall_min_px"] >= 0.9
    assert score["identity"]["bcubed"]["f1"] >= 0.9
    assert score["identity"]["same_frame_merges"] == 0
    # second call: the stored results are scored again, nothing is recomputed
    stamp = (out / "cast_a" / "published.json").read_text()
    assert main(["eval", str(movie), "--truth", str(truth), "--fps", "0.25",
                 "--output-dir", str(out), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == score
    assert (out / "cast_a" / "published.json").read_text() == stamp


def test_eval_rejects_bad_input_in_one_line(testdata, tmp_path, capsys):
    movie = testdata / "movies" / "cast_a.mp4"
    bad = tmp_path / "truth.json"
    bad.write_text("[1, 2]")
    assert main(["eval", str(movie), "--truth", str(bad), "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "is not a ground-truth file" in err and "\n" not in err
    other = testdata / "movies" / "hard_b.json"  # 1920x1080; cast_a is 1280x720
    assert main(["eval", str(movie), "--truth", str(other), "--output-dir", str(tmp_path)]) == 1
    assert "is for a 1920x1080 video" in capsys.readouterr().err


def test_eval_output_names_the_movie_it_scored(testdata, tmp_path):
    """The first line says which movie (key and file) the scores are for."""
    movie, truth = testdata / "movies" / "cast_b.mp4", testdata / "movies" / "cast_b.json"
    env = {**{k: v for k, v in os.environ.items()
              if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")},
           "MOVIEFACES_DURATION": "6"}  # a short run: the scores themselves are tested above
    done = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "eval", str(movie), "--truth", str(truth),
         "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    first, second, third = done.stdout.splitlines()[:3]
    assert first.split() == ["movie", "cast_b", f"({movie.resolve()})"]
    assert second.split() == ["truth", str(truth)]
    assert third.split()[:3] == ["frames", "scored", "6"]
