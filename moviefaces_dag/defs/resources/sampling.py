"""Frame sampling settings as a resource, so a change of rate is a change of code version."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import SettingsResource, setting_field


class SamplingResource(SettingsResource):
    """How frames are sampled from each movie (env MOVIEFACES_FPS, MOVIEFACES_DURATION)."""

    section: ClassVar[str] = "sampling"
    fps: float = setting_field("sampling.fps")
    duration: float | None = setting_field("sampling.duration")

    def settings(self) -> dict[str, Any]:
        return {"fps": self.fps, "duration": self.duration}
