"""The output folder as every entry point opens it: upgraded from an older layout first, its
movies' pages rendered by the report."""

from __future__ import annotations

from pathlib import Path

from ..report import render_movie_pages
from ..store import OutputRoot, upgrade


def open_output(path: Path | str) -> OutputRoot:
    return upgrade.open_output(path, render_movie_pages)
