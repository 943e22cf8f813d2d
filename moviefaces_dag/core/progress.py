"""Progress of long stages: log lines for Dagster, a bar (or plain lines) for the terminal."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, Protocol

Tick = Callable[[int], None]
LogFn = Callable[[str], None]
# Without a terminal (a log file, CI), a plain line at most this often (seconds).
PLAIN_INTERVAL = 10.0


class ProgressReporter(Protocol):
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        """Context manager yielding `tick(n)`, to be called as n more items are done."""
        ...


class LogProgress:
    """Writes a log line at every `step` fraction of the work (and at the end): Dagster's run
    view shows it."""

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


class TerminalProgress:
    """A bar per stage with count and time left on the terminal the command started on, and
    the same progress as log lines for Dagster.

    Dagster captures a step's standard error into its compute logs, so the bar writes to a
    copy of the descriptor taken before any step ran: the user's terminal. Where that is no
    terminal (a pipe, a log file), a plain line every PLAIN_INTERVAL seconds replaces the bar,
    and a last one when a stage that took that long ends (short stages stay quiet).
    """

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or os.fdopen(os.dup(2), "w", buffering=1)
        self.log_progress = LogProgress()

    @contextmanager
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        with ExitStack() as stack:
            logged = stack.enter_context(self.log_progress.stage(name, total, log))
            shown = stack.enter_context(self._bar(name, total) if self.stream.isatty()
                                        else self._lines(name, total))

            def tick(n: int = 1) -> None:
                logged(n)
                shown(n)

            yield tick

    @contextmanager
    def _bar(self, name: str, total: int | None) -> Iterator[Tick]:
        from tqdm import tqdm

        with tqdm(total=total, desc=f"{name:>13}", unit="it", dynamic_ncols=True,
                  file=self.stream) as bar:
            yield bar.update

    @contextmanager
    def _lines(self, name: str, total: int | None) -> Iterator[Tick]:
        done, started = 0, time.monotonic()
        last = started

        def tick(n: int = 1) -> None:
            nonlocal done, last
            done += n
            now = time.monotonic()
            if now - last >= PLAIN_INTERVAL:
                last = now
                of = f"/{total} ({100 * done / total:.0f}%)" if total else ""
                print(f"{name}: {done}{of}, {now - started:.0f} s", file=self.stream)

        yield tick
        if last > started:
            print(f"{name}: {done} done in {time.monotonic() - started:.0f} s", file=self.stream)
