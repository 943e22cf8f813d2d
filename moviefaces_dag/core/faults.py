"""Named points where the fault tests stop a process, exactly, with a real signal.

`MOVIEFACES_FAULT=POINT[:SIGNAL]` (SIGNAL: KILL by default, INT, TERM or STOP) makes the process
send that signal to itself when it reaches POINT, so a test can kill -9 a run inside a stage's
write or between two steps of publishing without guessing with sleeps. Unset, it costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "MOVIEFACES_FAULT"
SIGNALS = ("KILL", "INT", "TERM", "STOP")


def fault_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if wanted:
        point, _, sig = wanted.rpartition(":")
        if sig not in SIGNALS:
            point, sig = wanted, "KILL"
        if point == name:
            del os.environ[ENV]  # once: a stopped process that is continued goes on
            os.kill(os.getpid(), getattr(signal, f"SIG{sig}"))
