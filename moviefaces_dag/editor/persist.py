"""The one door from the editor to the functions the command line uses to apply decisions: the
movie's people and report made again through Dagster, and the library rebuilt."""

from __future__ import annotations

from ..cli.library import rebuild
from ..cli.people import apply_decisions_now
from ..cli.run import execute
from ..store import MovieFolder, OutputRoot


def persist_movie(root: OutputRoot, folder: MovieFolder) -> None:
    """Group the movie again with its decisions, publish its report, rebuild the library."""
    apply_decisions_now(root, folder)


def persist_library(root: OutputRoot) -> None:
    """Rebuild the library with its decisions, and its pages."""
    rebuild(root, execute)
