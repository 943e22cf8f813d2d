"""The backfill command of docs/dagster.md works under `dg dev`, as `make dev` starts it.

`dg dev` serves the code location `moviefaces` (workspace.yaml, `[tool.dg.project]`); a backfill
recorded under another location name (`-m moviefaces_dag.definitions` names it after the
module) is never run by its daemon. The command is read from the doc's block fenced
```` ```sh dg-dev ````, so the doc and this test cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "dagster.md"
BLOCK = re.compile(r"^```sh dg-dev\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SECONDS = "8"  # MOVIEFACES_DURATION: each movie's first seconds only, so the runs are quick
WAIT_S = 8 * 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def dg_dev_block() -> str:
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) == 1, f"{DOC} needs exactly one ```sh dg-dev block, has {len(blocks)}"
    return blocks[0]


@pytest.fixture
def dg_dev(tmp_path: Path, testdata: Path):
    """`dg dev` from the repository root on a new instance with two registered movies."""
    out = tmp_path / "out"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(out / "dagster_home"),
           "MOVIEFACES_OUTPUT_DIR": str(out), "MOVIEFACES_DURATION": SECONDS,
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    # As `make dev`: the instance first, with the project's settings.
    subprocess.run([bin_dir / "python", "-c", "import sys; from moviefaces_dag.defs.instance "
                    "import open_instance; open_instance(sys.argv[1])", out],
                   env=env, check=True, timeout=120)
    for name in ("cast_a", "cast_b"):
        subprocess.run([bin_dir / "moviefaces", "add", testdata / "movies" / f"{name}.mp4"],
                       env=env, check=True, timeout=120)
    port = free_port()
    log = tmp_path / "dg_dev.log"
    process = subprocess.Popen(
        [bin_dir / "dg", "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        yield env, out, port, process, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_location(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dg dev exited early:\n{log.read_text()[-3000:]}"
        try:
            if graphql(port, "{ assetNodes { id } }")["data"]["assetNodes"]:
                return
        except (OSError, KeyError, TypeError):
            pass
        time.sleep(2)
    pytest.fail(f"dg dev served no asset graph within 240 s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_documented_backfill_runs_every_movie_under_dg_dev(dg_dev) -> None:
    env, out, port, process, log = dg_dev
    wait_for_location(port, process, log)

    done = subprocess.run(["bash", "-euo", "pipefail", "-c", dg_dev_block()], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    launched = re.search(r"Launched backfill job `([^`]+)`", done.stdout)
    assert launched, done.stdout + done.stderr
    backfill = launched.group(1)

    instance = DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    deadline, runs = time.monotonic() + WAIT_S, []
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dg dev exited:\n{log.read_text()[-3000:]}"
        runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill}))
        failed = [r for r in runs if r.status in (DagsterRunStatus.FAILURE,
                                                  DagsterRunStatus.CANCELED)]
        assert not failed, (f"runs {[r.run_id for r in failed]} failed:\n"
                            f"{log.read_text()[-5000:]}")
        if len(runs) == 2 and all(r.status == DagsterRunStatus.SUCCESS for r in runs):
            break
        time.sleep(5)
    else:
        states = {r.tags.get("dagster/partition"): r.status.value for r in runs}
        pytest.fail(f"backfill {backfill} not done within {WAIT_S} s: {states}\n"
                    f"{log.read_text()[-5000:]}")

    assert {r.tags["dagster/partition"] for r in runs} == {"cast_a", "cast_b"}
    assert all(r.job_name == "process_movie" for r in runs)
    for name in ("cast_a", "cast_b"):
        assert (out / name / "index.html").is_file(), f"no published report for {name}"
