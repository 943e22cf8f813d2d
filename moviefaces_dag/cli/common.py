"""What every subcommand shares: errors, the output folder, the Dagster instance, registration."""

from __future__ import annotations

import argparse
import fcntl
import os
from pathlib import Path

from ..resources.store import default_output_dir
from ..store import MovieFolder, OutputRoot, StoreError
from ..upgrade import open_output
from ..video import MovieError, probe_movie


class CliError(Exception):
    """Ends the command with one line on stderr and exit status 1."""


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters (which can move the cursor or retitle
    the window) shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def add_movie_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("movie", help="the movie file")
    parser.add_argument(
        "--output-dir", default=default_output_dir(),
        help="folder for frames, faces, reports and the database "
             "(default: $MOVIEFACES_OUTPUT_DIR or ./moviefaces_output)",
    )


def dagster_instance(output_dir: Path):
    """$DAGSTER_HOME's instance if set, else one kept under the output folder."""
    from dagster import DagsterInstance

    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get()
    home = output_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    # Two first commands at once would both create the instance's databases: one at a time.
    fd = os.open(home / ".create.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        instance = DagsterInstance.from_config(str(home))
        instance.get_runs(limit=1)  # creates the run storage now, inside the lock
        return instance
    finally:
        os.close(fd)


def output_root(output_dir: Path | str) -> OutputRoot:
    try:
        return open_output(Path(output_dir))
    except (OSError, StoreError) as exc:
        raise CliError(f"output folder {output_dir}: {exc}") from exc


def movie_folder(root: OutputRoot, movie: str) -> MovieFolder:
    """The folder of `movie`, given as a file path or as its key."""
    resolved = str(Path(movie).resolve())
    for key, row in root.movies().items():
        if row.path == resolved:
            return root.folder(key)
    try:
        return root.folder(movie)
    except StoreError:
        raise CliError(f"{movie} has not been processed in {root.path}; "
                       f"run `moviefaces run {movie}` first") from None


def register(movie: Path, root: OutputRoot) -> str:
    """Check the file is a readable video, then register it in the store and as a partition."""
    from ..partitions import MOVIES_PARTITION

    try:
        probe_movie(movie)
    except MovieError as exc:
        raise CliError(str(exc)) from exc
    key = root.register(movie)
    instance = dagster_instance(root.path)
    if not instance.has_dynamic_partition(MOVIES_PARTITION, key):
        instance.add_dynamic_partitions(MOVIES_PARTITION, [key])
    return key
