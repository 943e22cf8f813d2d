"""Ground-truth files in the format of shared/testdata/movies/*.json.

Each shot lists its faces with a box at the shot's first and last frame; boxes move linearly in
between: box(f) = start + (end - start) * (f - start_frame) / max(1, end_frame - 1 - start_frame).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class TrueFace:
    identity: str
    box: Box
    width_px: float


class TruthError(Exception):
    """A ground-truth file is missing or not in the expected format."""


class GroundTruth:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.fps = float(data["fps"])
        self.cast: list[str] = list(data["cast"])
        self.shots = sorted(data["shots"], key=lambda s: s["start_frame"])
        self.size: tuple[int, int] | None = (
            (int(data["width"]), int(data["height"])) if "width" in data else None)

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        try:
            return cls(json.loads(Path(path).read_text()))
        except OSError as exc:
            raise TruthError(f"cannot read ground truth {path}: {exc.strerror or exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise TruthError(
                f"{path} is not a ground-truth file (JSON with fps, cast and shots as in "
                f"shared/testdata/movies/*.json): {type(exc).__name__} {exc}") from exc

    def frame_at(self, time: float) -> int:
        return int(round(time * self.fps))

    def faces_at(self, time: float) -> list[TrueFace]:
        """The true faces on screen in the frame shown at `time` seconds."""
        frame = self.frame_at(time)
        for shot in self.shots:
            if shot["start_frame"] <= frame < shot["end_frame"]:
                span = max(1, shot["end_frame"] - 1 - shot["start_frame"])
                a = (frame - shot["start_frame"]) / span
                faces = []
                for face in shot["faces"]:
                    start, end = face["face_box_start"], face["face_box_end"]
                    box = tuple(s + (e - s) * a for s, e in zip(start, end, strict=True))
                    faces.append(TrueFace(face["identity"], box,
                                          float(face.get("face_px", box[2] - box[0]))))
                return faces
        return []
