"""`dg dev` serves the code location: the asset graph and the movie partitions over GraphQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } partitionKeys } }"


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


@pytest.fixture
def dagster_dev(tmp_path: Path, cast_a: Path):
    home = tmp_path / "dagster_home"  # `moviefaces add` creates it with the project's settings
    env = {**os.environ, "DAGSTER_HOME": str(home), "MOVIEFACES_OUTPUT_DIR": str(tmp_path / "out")}
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "moviefaces", "add", cast_a], env=env, check=True, timeout=120)
    port = free_port()
    # dg dev in the repository root, as the README says: the UI shares the CLI's instance.
    process = subprocess.Popen(
        [bin_dir / "dg", "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "dagster_dev.log").open("w"),
    )
    try:
        yield port, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_dagster_dev_serves_assets_and_partitions(dagster_dev) -> None:
    port, process = dagster_dev
    deadline, nodes = time.monotonic() + 180, None
    while time.monotonic() < deadline:
        assert process.poll() is None, "dagster dev exited early"
        try:
            nodes = graphql(port, QUERY)["data"]["assetNodes"]
            if nodes:
                break
        except (OSError, KeyError, TypeError):
            pass
        time.sleep(2)
    assert nodes, "no asset graph within 180 s"
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {"movie", "frames", "face_detections", "face_embeddings", "face_clusters",
            "movie_report"} <= set(by_key)
    assert [d["path"] for d in by_key["face_detections"]["dependencyKeys"]] == [["frames"]]
    assert by_key["frames"]["partitionKeys"] == ["cast_a"]
