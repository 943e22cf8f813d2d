"""Progress of long stages: log lines for Dagster, a bar for the terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

Tick = Callable[[int], None]
LogFn = Callable[[str], None]


class ProgressReporter(Protocol):
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        """Context manager yielding `tick(n)`, to be called as n more items are done."""
        ...


class LogProgress:
    """Writes a log line at every `step` fraction of the work (and at the end)."""

    def __init__(self, step: float = 0.1):
        self.step = step

    @contextmanager
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        done, next_report, started = 0, self.step, time.monotonic()

        def tick(n: int = 1) -> None:
            nonlocal done, next_report
            done += n
            if total and done / total >= next_report:
                rate = done / max(time.monotonic() - started, 1e-9)
                log(f"{name}: {done}/{total} ({100 * done / total:.0f}%, {rate:.1f}/s)")
                while done / total >= next_report:
                    next_report += self.step

        yield tick
        log(f"{name}: done, {done} items in {time.monotonic() - started:.1f}s")


class TqdmProgress:
    """A terminal progress bar per stage (the CLI's reporter)."""

    @contextmanager
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal (logs, CI).
        with tqdm(total=total, desc=f"{name:>16}", unit="it", dynamic_ncols=True,
                  disable=None) as bar:
            yield bar.update
