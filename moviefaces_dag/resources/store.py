"""The output folder (a store per movie) as a Dagster resource."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import AssetExecutionContext, ConfigurableResource
from pydantic import Field

from ..run_health import end_with_parent
from ..store import Draft, OutputRoot
from ..upgrade import open_output

DEFAULT_OUTPUT_DIR = "moviefaces_output"


def default_output_dir() -> str:
    return os.environ.get("MOVIEFACES_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)


class MovieStoreResource(ConfigurableResource):
    """Where each movie's store, frames, face crops and report live."""

    output_dir: str = Field(
        default_factory=default_output_dir,
        description="Folder for frames, face crops and reports (env MOVIEFACES_OUTPUT_DIR).",
    )

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir).absolute()

    def root(self) -> OutputRoot:
        return open_output(self.output_path)

    @contextmanager
    def writing(self, context: AssetExecutionContext) -> Iterator[Draft]:
        """The partition's movie, with this step as its one writer."""
        end_with_parent()
        folder = self.root().folder(context.partition_key)
        what = f"Dagster run {context.run.run_id[:8]} ({context.op_execution_context.op.name})"
        with folder.writing(what) as draft:
            yield draft
