"""The real `moviefaces` command in a test: a clean environment (no DAGSTER_HOME, none of the
caller's MOVIEFACES_* settings), a fault point if asked, run to its end or left running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from moviefaces_dag.core.faults import ENV as FAULT


def moviefaces(*args: object, fault: str | None = None, wait: bool = True
               ) -> subprocess.CompletedProcess | subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    env.update({FAULT: fault} if fault else {})
    command = [sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def stopped(pid: int) -> bool:
    """Whether process `pid` is stopped (SIGSTOP, as a fault point can do)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def copy_of(base: Path, tmp_path: Path) -> Path:
    """A copy of the output folder `base`, for a test that changes it."""
    copy = tmp_path / "out"
    shutil.copytree(base, copy, symlinks=True)
    return copy
