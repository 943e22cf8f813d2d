"""The output folder (a store per movie) as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from dagster import AssetExecutionContext

from ..run_health import end_with_parent
from ..store import Draft, OutputRoot
from ..upgrade import open_output
from .base import SettingsResource, setting_field


class MovieStoreResource(SettingsResource):
    """Where each movie's store, frames, face crops and report live."""

    section: ClassVar[str] = "store"
    output_dir: str = setting_field("store.output_dir")

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
