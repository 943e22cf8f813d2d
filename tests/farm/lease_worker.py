"""A worker for tests/farm/test_lease.py, in a process of its own so that the test can stall it
(SIGSTOP) as a paused VM or a long GC pause would: it takes movie KEY on the shared root URL,
says "holding", and writes its result back once the file GO exists.

    python lease_worker.py URL KEY SCRATCH LEASE_SECONDS GO [LEASE_DATABASE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from moviefaces_dag.store import MovieBusyError, StoreError
from moviefaces_dag.store.shared import SharedRoot


def main(url: str, key: str, scratch: str, lease_seconds: str, go: str,
         database: str | None = None) -> int:
    root = SharedRoot(url, Path(scratch), float(lease_seconds), database)
    try:
        with root.writing(key, "the stalled worker") as draft:
            draft.db.set_movie(key, "/films/written-by-the-stalled-worker.mp4")
            print("holding", flush=True)
            while not Path(go).exists():
                time.sleep(0.05)
    except (MovieBusyError, StoreError) as exc:
        print(exc, flush=True)
        return 3
    print("written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
