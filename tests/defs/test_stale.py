"""Stage state that another entry point left half-written is read without error: a stage
materialized on its own records its missing upstream as "NULL", and `moviefaces run` then
reruns what is out of date instead of failing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow

# Each entry point that can materialize a stage alone, outside `moviefaces run`.
ALONE = {
    "dagster asset materialize": [str(BIN / "dagster"), "asset", "materialize", "-m",
                                  "moviefaces_dag.definitions", "--select", "frames",
                                  "--partition", "cast_a"],
    "dg launch": [str(BIN / "dg"), "launch", "--assets", "frames", "--partition", "cast_a"],
}


@pytest.mark.parametrize("entry", sorted(ALONE))
def test_a_stage_run_alone_never_breaks_the_next_run(entry: str, tmp_path: Path,
                                                      testdata: Path) -> None:
    out, home = tmp_path / "out", tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "MOVIEFACES_OUTPUT_DIR": str(out),
           "MOVIEFACES_DURATION": "4"}
    movie = testdata / "movies" / "cast_a.mp4"

    def run(*command: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=600)

    moviefaces = (sys.executable, "-m", "moviefaces_dag.cli")
    assert run(*moviefaces, "add", str(movie), "--output-dir", str(out)).returncode == 0
    alone = run(*ALONE[entry], cwd=REPO)
    assert alone.returncode == 0, alone.stderr[-2000:]
    done = run(*moviefaces, "run", str(movie), "--output-dir", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "people found:" in done.stdout
    again = run(*moviefaces, "run", str(movie), "--output-dir", str(out))
    assert again.returncode == 0 and "up to date" in again.stdout + again.stderr
