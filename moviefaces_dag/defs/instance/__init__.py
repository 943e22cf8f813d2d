"""The Dagster instance that `moviefaces`, `dg dev` and the daemon share.

Its home is $DAGSTER_HOME when set, else `<output>/dagster_home`; a new home gets the project's
instance settings (dagster.yaml beside this file): concurrency limits, run monitoring and the
launcher that tells dead runs.
"""

from __future__ import annotations

import fcntl
import os
from importlib import resources
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

HOME_NAME = "dagster_home"
# What the first versions wrote into the CLI's instance home: replaced by today's settings.
OLD_DEFAULT = "telemetry:\n  enabled: false\n"
# The launcher's module before the Dagster layer had its own folder: mended in place, so the
# user's own edits to the file stay.
OLD_LAUNCHER = "module: moviefaces_dag.launcher\n"
LAUNCHER = "module: moviefaces_dag.defs.launcher\n"
# The settings' last block (its comment starts so), added later: a home holding the settings
# as they were before it gets it too (one the user edited is left as it is).
PYTHON_LOGS = "# The console ("


def instance_settings() -> str:
    return resources.files(__package__).joinpath("dagster.yaml").read_text()


def earlier_settings() -> set[str]:
    """What earlier versions wrote into a new home, to be replaced by today's settings."""
    today = instance_settings()
    before_logs = today[:today.index(PYTHON_LOGS)]
    return {OLD_DEFAULT, before_logs,
            before_logs.replace(LAUNCHER, OLD_LAUNCHER)}


def instance_home(output_dir: Path | str) -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or Path(output_dir) / HOME_NAME).absolute()


# The CLI's own runs write to the user's terminal directly: Dagster's capture of step output
# would hide the progress bar from it and start helper processes that Ctrl-C interrupts noisily.
NO_CAPTURE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                               "class": "NoOpComputeLogManager"}}


def open_instance(output_dir: Path | str, capture_output: bool = True) -> DagsterInstance:
    """The shared instance, created with the project's settings if it is new; without
    `capture_output`, runs made through it leave their output on the terminal."""
    home = instance_home(output_dir)
    home.mkdir(parents=True, exist_ok=True)
    # Two first commands at once would both create the instance's databases: one at a time.
    fd = os.open(home / ".create.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists() or config.read_text() in earlier_settings():
            config.write_text(instance_settings())
        elif OLD_LAUNCHER in (text := config.read_text()):
            config.write_text(text.replace(OLD_LAUNCHER, LAUNCHER))
        instance = DagsterInstance.from_ref(InstanceRef.from_dir(
            str(home), overrides=None if capture_output else NO_CAPTURE))
        instance.get_runs(limit=1)  # creates the run storage now, inside the lock
        return instance
    finally:
        os.close(fd)
