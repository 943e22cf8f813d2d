"""What every subcommand shares: errors, the output folder, the Dagster instance, registration."""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path
from typing import Any

from ..core.settings import SETTINGS, SettingError, resolve
from ..evaluation.truth import TruthError
from ..faces.types import FaceModelError
from ..media.video import MovieError, probe_movie
from ..pipeline.outputs import open_output
from ..pipeline.watch import follow_moves
from ..report.export import ExportError
from ..store import MovieBusyError, MovieFolder, OutputRoot, StoreError
from ..store.shared import SharedRoot


class CliError(Exception):
    """Ends the command with one line on stderr and exit status 1."""


# Failures the user can act on, each one line naming the file or setting; and what the file
# system or a database refused (a full disk, a read-only folder, a damaged file).
EXPECTED_FAILURES = (CliError, MovieError, SettingError, StoreError, FaceModelError,
                     ExportError, TruthError, MovieBusyError, OSError, sqlite3.Error)


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters (which can move the cursor or retitle
    the window) shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def add_setting(parser, key: str, **kwargs: Any) -> None:
    """A command-line flag for a moviefaces setting; unset, the setting comes from the
    environment, the settings file or its default."""
    setting = SETTINGS[key]
    default = "unset" if setting.default is None else setting.default
    parser.add_argument(setting.flag, default=None, help=f"{setting.help} (default: "
                        f"${setting.env}, the settings file, or {default})", **kwargs)


def setting(args: argparse.Namespace, key: str) -> Any:
    """The setting's value: the flag if given, else the environment, settings file, default."""
    flag = SETTINGS[key].flag
    return resolve(key, getattr(args, flag.lstrip("-").replace("-", "_")), flag)[0]


def add_movie_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("movie", help="the movie file")
    add_setting(parser, "store.output_dir")


def dagster_instance(output_dir: Path):
    """The instance the CLI shares with `dg dev`: $DAGSTER_HOME's, else <output>/dagster_home."""
    from ..defs.instance import open_instance

    try:
        return open_instance(output_dir, capture_output=False)
    except OSError as exc:
        raise CliError(f"Dagster instance under {output_dir}: {exc}") from exc


def shared_root(args: argparse.Namespace) -> SharedRoot | None:
    """The output root as a shared one (object storage, or a scratch folder set), else None."""
    from ..defs.resources import MovieStoreResource

    return MovieStoreResource(output_dir=setting(args, "store.output_dir")).shared()


def output_root(args: argparse.Namespace) -> OutputRoot:
    """The output folder the command works in, checked: a folder moviefaces can write to."""
    location = setting(args, "store.output_dir")
    if "://" in location:
        raise CliError(f"output folder {location} is object storage: this command works on a "
                       "local or mounted folder (the farm's steps run through Dagster)")
    path = Path(location)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".moviefaces-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return open_output(path)
    except FileExistsError:
        raise CliError(f"output folder {path} is a file, not a folder") from None
    except NotADirectoryError:
        raise CliError(f"output folder {path}: part of that path is a file") from None
    except OSError as exc:
        raise CliError(f"output folder {path} cannot be written "
                       f"({exc.strerror or exc})") from None


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


def register(movie: Path, root: OutputRoot | SharedRoot) -> str:
    """Check the file is a readable video, then register it in the store and as a partition
    (of $DAGSTER_HOME's instance for a shared root: the farm's)."""
    from ..defs.partitions import MOVIES_PARTITION

    try:
        probe_movie(movie)
    except MovieError as exc:
        raise CliError(str(exc)) from exc
    if isinstance(root, SharedRoot) and not os.environ.get("DAGSTER_HOME"):
        raise CliError(f"{root.url} is shared: set DAGSTER_HOME to the folder of the farm's "
                       "dagster.yaml (deploy/farm) so that the movie becomes its partition")
    key = root.register(movie)
    if isinstance(root, OutputRoot):
        follow_moves(root, key)  # a moved file: the published pages link to it where it is now
    instance = dagster_instance(root.path if isinstance(root, OutputRoot) else Path("."))
    if not instance.has_dynamic_partition(MOVIES_PARTITION, key):
        instance.add_dynamic_partitions(MOVIES_PARTITION, [key])
    return key
