"""Whether a process of this host still runs: what tells a dead run, or a dead writer's
leftover file, from a live one."""

from __future__ import annotations

import os

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), where /proc tells."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one read
        with open("/proc/stat") as handle:
            boot = next(float(line.split()[1]) for line in handle if line.startswith("btime"))
    except (OSError, StopIteration, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / _CLOCK_TICKS  # field 22: start time in clock ticks


def process_alive(pid: int, since: float) -> bool:
    """Whether process `pid`, started no later than `since`, still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = _started_at(pid)
    return started is None or started <= since + 2.0  # a reused pid started later
