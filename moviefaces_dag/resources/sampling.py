"""Frame sampling settings as a resource, so a change of rate is a change of code version."""

from __future__ import annotations

import os
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


class SamplingResource(ConfigurableResource):
    """How frames are sampled from each movie (env MOVIEFACES_FPS, MOVIEFACES_DURATION)."""

    fps: float = Field(
        default_factory=lambda: _env_float("MOVIEFACES_FPS") or 1.0, gt=0,
        description="Frames sampled per movie second; fractions allowed (0.5 = one every 2 s).",
    )
    duration: float | None = Field(
        default_factory=lambda: _env_float("MOVIEFACES_DURATION"), gt=0,
        description="Stop sampling at this movie time in seconds; unset = the whole movie.",
    )

    def settings(self) -> dict[str, Any]:
        return {"fps": self.fps, "duration": self.duration}
