"""What every subcommand shares: errors, the output folder, the Dagster instance, registration."""

from __future__ import annotations

import argparse
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
    """The instance the CLI shares with `dg dev`: $DAGSTER_HOME's, else <output>/dagster_home."""
    from ..instance import open_instance

    try:
        return open_instance(output_dir)
    except OSError as exc:
        raise CliError(f"Dagster instance under {output_dir}: {exc}") from exc


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
