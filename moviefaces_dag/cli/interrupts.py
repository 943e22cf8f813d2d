"""Ctrl-C and SIGTERM end a command with one line and the shell's exit status (130, 143)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(Exception):
    """The user (Ctrl-C) or the system (SIGTERM) stopped the command."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_status = 128 + signum


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM stops work as Ctrl-C does (Dagster, which maps SIGTERM to its
    SIGINT handler while it executes, ends the step and its transaction rolls back); either
    leaves the block as Interrupted, naming the signal that came."""
    # Dagster replaces the handlers while it runs; the wakeup descriptor still records every
    # signal number that arrives, so the exit status can tell SIGTERM from Ctrl-C.
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    except KeyboardInterrupt:
        try:
            came = os.read(read, 64)
        except BlockingIOError:
            came = b""
        raise Interrupted(signal.SIGTERM if signal.SIGTERM in came else signal.SIGINT) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(previous_fd)
        os.close(read)
        os.close(write)
