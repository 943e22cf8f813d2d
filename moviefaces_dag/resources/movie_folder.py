"""The folder the movie sensor watches."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field


class MovieFolderResource(ConfigurableResource):
    """Video files dropped here are registered and processed (env MOVIEFACES_WATCH_DIR)."""

    folder: str | None = Field(
        default_factory=lambda: os.environ.get("MOVIEFACES_WATCH_DIR") or None,
        description="Folder to watch (searched recursively); unset = watch nothing.",
    )
    settle_seconds: float = Field(
        10.0, ge=0, description="Wait until a file has not changed for this long (copies).",
    )

    @property
    def path(self) -> Path | None:
        return Path(self.folder).expanduser().resolve() if self.folder else None
