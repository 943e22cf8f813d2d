"""The SQLite store and output folder as a Dagster resource."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from ..layout import DB_NAME
from ..store import MovieStore

DEFAULT_OUTPUT_DIR = "moviefaces_output"


def default_output_dir() -> str:
    return os.environ.get("MOVIEFACES_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)


class MovieStoreResource(ConfigurableResource):
    """Where frames, face crops, reports and the SQLite database live."""

    output_dir: str = Field(
        default_factory=default_output_dir,
        description="Folder for frames, face crops and reports (env MOVIEFACES_OUTPUT_DIR).",
    )
    db_path: str | None = Field(
        default=None, description=f"SQLite file; default <output_dir>/{DB_NAME}."
    )

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir).resolve()

    def open(self) -> MovieStore:
        return MovieStore(Path(self.db_path) if self.db_path else self.output_path / DB_NAME)
