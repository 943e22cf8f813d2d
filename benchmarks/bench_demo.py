"""`make demo` on fresh clones, as a new user meets it: this checkout's commit against an older one.

    .venv/bin/python benchmarks/bench_demo.py --before af19eb2 [--pairs 2] [--movie MOVIE]

Each pair clones both commits into a temporary folder and runs `make demo` in each, one after
the other (before, after, before, after ...), with empty pip and uv caches, so every run
downloads and installs as on a new machine. It prints each run's wall seconds, then the median
of each and the after/before ratio of every pair (pairing keeps the ratio meaningful on a
machine whose load drifts).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def demo_seconds(commit: str, movie: Path, scratch: Path) -> float:
    """Wall seconds of `make demo` in a fresh clone of `commit` with empty package caches."""
    checkout = scratch / "checkout"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "checkout", "-q", commit], check=True)
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1", "UV_CACHE_DIR": str(scratch / "uv-cache"),
           "XDG_CACHE_HOME": str(scratch / "cache")}
    start = time.monotonic()
    subprocess.run(["make", "-s", "demo", f"MOVIE={movie}"], cwd=checkout, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--after", default="HEAD", help="the commit measured (default HEAD)")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--movie", type=Path,
                        default=ROOT.parent / "shared/testdata/movies/cast_b.mp4")
    args = parser.parse_args()
    movie = args.movie.resolve()
    if not movie.is_file():
        print(f"bench_demo: no movie at {movie} (give --movie)", file=sys.stderr)
        return 2
    before, after, ratios = [], [], []
    for pair in range(1, args.pairs + 1):
        seconds = {}
        for label, commit in (("before", args.before), ("after", args.after)):
            with tempfile.TemporaryDirectory(prefix="bench-demo-") as scratch:
                seconds[label] = demo_seconds(commit, movie, Path(scratch))
            print(f"pair {pair} {label:6} {commit}: {seconds[label]:6.1f} s", flush=True)
        before.append(seconds["before"])
        after.append(seconds["after"])
        ratios.append(seconds["after"] / seconds["before"])
    print(f"median before {statistics.median(before):.1f} s, "
          f"after {statistics.median(after):.1f} s")
    print("after/before per pair: " + ", ".join(f"{ratio:.2f}" for ratio in ratios)
          + f" (median {statistics.median(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
