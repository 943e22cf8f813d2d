"""What every subcommand shares: errors, the output folder, the Dagster instance, registration."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError  # Dagster's storage

from ..core.settings import SETTINGS, SettingError, resolve
from ..evaluation.truth import TruthError
from ..faces.types import FaceModelError
from ..media.sources import MovieSources
from ..media.video import MovieError, probe_movie
from ..people.decision_log import DecisionError
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
                     ExportError, TruthError, MovieBusyError, DecisionError, OSError,
                     sqlite3.Error)


# What a failure of the file system leaves: every publish is atomic.
KEPT = "; the published results stay readable"
# What the Dagster instance's storage raises when its disk is full or its files are damaged.
INSTANCE_FAILURES = (OSError, sqlite3.Error, SQLAlchemyError)


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
    parser.add_argument("movie", help="the movie file, or its URL (s3://bucket/film.mp4)")
    add_setting(parser, "store.output_dir")


def dagster_instance(output_dir: Path):
    """The instance the CLI shares with `dg dev`: $DAGSTER_HOME's, else <output>/dagster_home."""
    from ..defs.instance import instance_home, open_instance

    try:
        return open_instance(output_dir, capture_output=False)
    except INSTANCE_FAILURES as exc:
        raise instance_failure(exc, instance_home(output_dir), "cannot be opened") from exc


def instance_failure(exc: BaseException | str, home: Path, what: str) -> CliError:
    return CliError(f"the Dagster instance in {home} {what} ({storage_reason(exc, home)}){KEPT}")


# What Dagster's event-log handler writes straight to stderr (followed by the storage's error,
# several lines) when the instance cannot store a log message; the run goes on and fails at its
# next event for the same reason, which the command then reports in one line.
EVENT_LOG_COMPLAINT = "Exception while writing logger call to event log"


class _HoldingComplaints:
    """stderr, except that Dagster's event-log complaints are held back in `held`."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.held: list[str] = []

    def write(self, text: str) -> int:
        if text.startswith(EVENT_LOG_COMPLAINT):
            self.held.append(text)
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def event_log_complaints_held() -> Iterator[list[str]]:
    """Within the block, Dagster's complaints that the instance could not store a log message
    are held back, not printed (the command's one line about the failure says it); the list of
    those held is yielded, for a command that succeeds all the same to tell in one line."""
    holding = _HoldingComplaints(sys.stderr)
    sys.stderr = holding
    try:
        yield holding.held
    finally:
        sys.stderr = holding._stream


def unstored_logs_warning(held: list[str], home: Path) -> str:
    """One line for a run that succeeded although some of its log messages were not stored."""
    reason = held[0][len(EVENT_LOG_COMPLAINT):].lstrip(": ").splitlines()[0]
    reason = re.sub(r"^\([\w.]+\) ", "", reason)  # SQLAlchemy's "(sqlite3.OperationalError) "
    return printable(f"moviefaces: warning: {len(held)} log message(s) of the run could not be "
                     f"stored in the Dagster instance in {home} ({reason})")


def file_system_failure(exc: OSError, output_dir: str | None) -> str:
    """One line for what the file system refused: why, where (the file, else the output
    folder) and what is kept."""
    where = exc.filename or output_dir
    return f"{exc.strerror or exc}{f': {where}' if where else ''}{KEPT}"


# SQLite says "disk I/O error" when a write finds the disk full, and by the time the command
# reports it, files that failing steps removed have freed a little space again.
LOW_SPACE = 64 << 20


def storage_reason(exc: BaseException | str, path: Path) -> str:
    """Why a file or database could not be written, in words (`exc`: the error or its text),
    saying the disk is full where it (nearly) is."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return reason
    return f"no space left on device, {free >> 20} MB free: {reason}" if free < LOW_SPACE \
        else reason


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


def read_root(args: argparse.Namespace) -> OutputRoot:
    """The output folder a command only reads: its published results, also on a read-only
    mount (nothing is written, nor upgraded). A missing folder holds no movie: the command
    then says which movie to run first."""
    return OutputRoot(Path(setting(args, "store.output_dir")))


def movie_folder(root: OutputRoot, movie: str) -> MovieFolder:
    """The folder of `movie`, given as a file path or as its key."""
    folder = root.find(movie)
    if folder is None:
        raise CliError(f"{movie} has not been processed in {root.path}; "
                       f"run `moviefaces run {movie}` first")
    return folder


def movie_sources() -> MovieSources:
    """Where this machine finds movies: the settings' movies root and scratch folder."""
    from ..defs.resources import MovieStoreResource

    return MovieStoreResource().sources()


def register(movie: Path | str, root: OutputRoot | SharedRoot) -> str:
    """Check the movie (a path or a URL) is a readable video, then register its location
    (media/sources.py) in the store and as a partition (of $DAGSTER_HOME's instance for a
    shared root: the farm's)."""
    from ..defs.partitions import MOVIES_PARTITION

    sources = movie_sources()
    location = sources.location(movie)
    try:
        with sources.opened(location) as path:
            probe_movie(path)
    except MovieError as exc:
        raise CliError(str(exc)) from exc
    if isinstance(root, SharedRoot) and not os.environ.get("DAGSTER_HOME"):
        raise CliError(f"{root.url} is shared: set DAGSTER_HOME to the folder of the farm's "
                       "dagster.yaml (deploy/farm) so that the movie becomes its partition")
    key = root.register(location)
    if isinstance(root, OutputRoot):
        follow_moves(root, key)  # a moved file: the published pages link to it where it is now
    instance = dagster_instance(root.path if isinstance(root, OutputRoot) else Path("."))
    if not instance.has_dynamic_partition(MOVIES_PARTITION, key):
        instance.add_dynamic_partitions(MOVIES_PARTITION, [key])
    return key
