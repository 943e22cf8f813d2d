"""The editor benchmark runs (small size): actions answered, persist settles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_editor.py"


def test_the_benchmark_runs_small(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--faces", "120", "--actions", "6",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "POST to updated page: median" in done.stdout
    assert "over 6 actions" in done.stdout and "background persist: settled" in done.stdout
