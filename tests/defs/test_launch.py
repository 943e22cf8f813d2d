"""`dg launch` from the repository root, as a user runs it: a quiet console (no DEBUG line per
step event) that ends with the report's address, while the event log keeps every event."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.instance.ref import InstanceRef

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_dg_launch_is_quiet_and_ends_with_the_report_url(tmp_path: Path, cast_a: Path) -> None:
    home, out = tmp_path / "dagster_home", tmp_path / "out"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MOVIEFACES_")},
           "DAGSTER_HOME": str(home), "MOVIEFACES_OUTPUT_DIR": str(out),
           "MOVIEFACES_DURATION": "4", "PYTHONPATH": str(REPO)}
    bin_dir = Path(sys.executable).parent
    added = subprocess.run([bin_dir / "moviefaces", "add", cast_a], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert added.stdout.split()[-1] == "cast_a"  # the partition's name
    done = subprocess.run(
        [bin_dir / "dg", "launch", "--assets", "*", "--partition", "cast_a"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 0, "\n".join(lines[-30:])
    assert len(lines) < 25, "\n".join(lines)
    assert not [line for line in lines if " - DEBUG - " in line], "\n".join(lines)
    logged = [line for line in lines if " - INFO - " in line]
    assert logged[-1].endswith(f"movie_report - report: {(out / 'cast_a' / 'index.html').as_uri()}")
    report = Path(unquote(urlparse(logged[-1].rsplit(" ", 1)[1]).path))
    assert report.is_file()
    # Quiet console, full record: the step events are in the event log all the same.
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        event = instance.get_latest_materialization_event(AssetKey("movie_report"))
        assert event is not None and event.dagster_event.partition == "cast_a"
        run = instance.get_run_records(limit=1)[0]
        levels = {e.level for e in instance.all_logs(run.dagster_run.run_id)}
        assert 10 in levels  # DEBUG: Dagster's step events (STEP_SUCCESS, ...)
    finally:
        instance.dispose()
