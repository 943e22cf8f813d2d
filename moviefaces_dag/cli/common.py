"""What every subcommand shares: errors, the output folder, the Dagster instance, registration."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..layout import DB_NAME
from ..movies import partition_key_for
from ..resources.store import default_output_dir
from ..store import MovieStore
from ..video import MovieError, probe_movie


class CliError(Exception):
    """Ends the command with one line on stderr and exit status 1."""


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
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return DagsterInstance.from_config(str(home))


def open_store(output_dir: Path) -> MovieStore:
    return MovieStore(output_dir / DB_NAME)


def register(movie: Path, output_dir: Path) -> tuple[str, MovieStore]:
    """Check the file is a readable video, then add it to the store and as a partition."""
    from ..partitions import MOVIES_PARTITION

    try:
        probe_movie(movie)
    except MovieError as exc:
        raise CliError(str(exc)) from exc
    store = open_store(output_dir)
    key = partition_key_for(movie, store.movie_keys())
    store.register_movie(key, str(movie.resolve()))
    instance = dagster_instance(output_dir)
    if not instance.has_dynamic_partition(MOVIES_PARTITION, key):
        instance.add_dynamic_partitions(MOVIES_PARTITION, [key])
    return key, store
