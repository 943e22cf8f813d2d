"""The folder the movie sensor watches."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from .base import SettingsResource, setting_field


class MovieFolderResource(SettingsResource):
    """Video files dropped here (a folder, or an object-storage prefix) are registered and
    processed (env MOVIEFACES_WATCH_DIR)."""

    section: ClassVar[str] = "movie_folder"
    folder: str | None = setting_field("movie_folder.folder")
    settle_seconds: float = Field(
        10.0, ge=0, description="Wait until a file has not changed for this long (copies).",
    )

    @property
    def location(self) -> str | None:
        """The folder's path, or the URL of an object-storage prefix (s3://bucket/new/)."""
        if not self.folder:
            return None
        if "://" in self.folder:
            return self.folder
        return str(Path(self.folder).expanduser().resolve())
