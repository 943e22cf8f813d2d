"""The folder the movie sensor watches."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from .base import SettingsResource, setting_field


class MovieFolderResource(SettingsResource):
    """Video files dropped here are registered and processed (env MOVIEFACES_WATCH_DIR)."""

    section: ClassVar[str] = "movie_folder"
    folder: str | None = setting_field("movie_folder.folder")
    settle_seconds: float = Field(
        10.0, ge=0, description="Wait until a file has not changed for this long (copies).",
    )

    @property
    def path(self) -> Path | None:
        return Path(self.folder).expanduser().resolve() if self.folder else None
