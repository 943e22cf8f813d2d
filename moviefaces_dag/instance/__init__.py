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

HOME_NAME = "dagster_home"
# What the first versions wrote into the CLI's instance home: replaced by today's settings.
OLD_DEFAULT = "telemetry:\n  enabled: false\n"


def instance_settings() -> str:
    return resources.files(__package__).joinpath("dagster.yaml").read_text()


def instance_home(output_dir: Path | str) -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or Path(output_dir) / HOME_NAME).absolute()


def open_instance(output_dir: Path | str) -> DagsterInstance:
    """The shared instance, created with the project's settings if it is new."""
    home = instance_home(output_dir)
    home.mkdir(parents=True, exist_ok=True)
    # Two first commands at once would both create the instance's databases: one at a time.
    fd = os.open(home / ".create.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists() or config.read_text() == OLD_DEFAULT:
            config.write_text(instance_settings())
        instance = DagsterInstance.from_config(str(home))
        instance.get_runs(limit=1)  # creates the run storage now, inside the lock
        return instance
    finally:
        os.close(fd)
