"""Background workers that persist decisions: one thread per movie (and one for the library)
runs the slow part, the report and the library made again through Dagster, while the page
already shows the new grouping. Requests made while a worker runs are coalesced: it runs once
more at the end. All persists take turns (one Dagster execution at a time in this process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..store import MovieBusyError

_ONE_AT_A_TIME = threading.Lock()


@dataclass
class PersistState:
    """What the page shows about the background work of one movie (or the library)."""

    state: str = "idle"  # idle, running, queued (a run holds the movie), error
    message: str = ""
    requested: int = 0  # how many times persisting was asked for
    done: int = 0  # the request count the last finished persist covered
    seconds: float = 0.0  # how long the last persist took

    @property
    def settled(self) -> bool:
        return self.state != "running" and self.done >= self.requested


class Persister:
    """Runs `job` in its own thread when asked, again once if asked while it ran."""

    def __init__(self, name: str, job: Callable[[], None]):
        self.name = name
        self.job = job
        self.status = PersistState()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        with self._lock:
            self.status.requested += 1
            if self._thread is None or not self._thread.is_alive():
                self.status.state = "running"
                self._thread = threading.Thread(target=self._run, name=f"persist-{self.name}",
                                                daemon=True)
                self._thread.start()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self.status), "settled": self.status.settled}

    def wait(self, timeout: float) -> bool:
        """Block until nothing is left to persist (for tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.status.settled:
                    return True
            time.sleep(0.05)
        return False

    def _run(self) -> None:
        while True:
            with self._lock:
                covers = self.status.requested
                self.status.state = "running"
            started = time.monotonic()
            state, message = "idle", ""
            try:
                with _ONE_AT_A_TIME:
                    self.job()
            except MovieBusyError:
                state, message = "queued", "queued: the run that holds the movie applies it"
            except Exception as exc:  # shown in the page, one line; the editor goes on
                text = str(exc).strip().splitlines()
                state, message = "error", (text[0] if text else type(exc).__name__)
            with self._lock:
                self.status.state, self.status.message = state, message
                self.status.done = covers
                self.status.seconds = round(time.monotonic() - started, 3)
                if self.status.requested == covers:
                    self.status.state = state
                    self._thread = None
                    return
