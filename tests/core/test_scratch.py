"""The scratch folder's bounds: least recently used entries go first once it is over its size,
unused ones after their age, and an entry in use by another step stays."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from moviefaces_dag.core.scratch import Scratch, tree_bytes


def entry(top: Path, name: str, size: int, used: float) -> Path:
    path = top / "sources" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (used, used))
    return path


def test_over_its_size_the_least_recently_used_go_first(tmp_path: Path) -> None:
    now = time.time()
    scratch = Scratch(tmp_path, max_bytes=2500, max_age=3600)
    old, middle, new = (entry(tmp_path, name, 1000, now - age)
                        for name, age in (("old", 30), ("middle", 20), ("new", 10)))
    assert scratch.trim() == [old]
    assert middle.exists() and new.exists()
    assert tree_bytes(tmp_path) <= 2500


def test_unused_for_its_age_an_entry_goes(tmp_path: Path) -> None:
    now = time.time()
    scratch = Scratch(tmp_path, max_bytes=10**9, max_age=60)
    stale = entry(tmp_path, "stale", 10, now - 120)
    fresh = entry(tmp_path, "fresh", 10, now - 5)
    assert scratch.trim() == [stale]
    assert fresh.exists()


def test_an_entry_in_use_by_another_process_stays(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, max_bytes=0, max_age=0)
    held = entry(tmp_path, "held", 100, 0)
    # Another step of this machine holds the entry (as a worker with --concurrency 2 would).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from moviefaces_dag.core.scratch import Scratch\n"
         f"with Scratch(Path({str(tmp_path)!r}), 0, 0).using(Path({str(held)!r})):\n"
         "    print('holding', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert scratch.trim() == [] and held.exists()
    finally:
        holder.kill()
        holder.wait()
    assert scratch.trim() == [held] and not held.exists()
