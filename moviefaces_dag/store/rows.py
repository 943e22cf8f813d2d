"""The rows of a movie's store, as plain values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MovieRow:
    key: str
    path: str  # the movie file as given at registration (absolute)
    size: int | None
    mtime_ns: int | None
    inode: int | None
    fingerprint: str | None
    duration: float | None
    fps: float | None
    width: int | None
    height: int | None
    codec: str | None
    container: str | None
    frame_count: int | None


@dataclass(frozen=True)
class FrameRow:
    idx: int
    time: float
    path: str  # relative to the movie's folder
    width: int
    height: int
    cut_distance: float | None = None  # colour distance to the previous sample (shots.py)
    id: int | None = None


@dataclass(frozen=True)
class FaceRow:
    frame_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels
    score: float
    landmarks: tuple[tuple[float, float], ...]  # 5 points: eyes, nose, mouth corners
    sharpness: float
    size: float
    frontalness: float
    quality: float
    crop_path: str  # relative to the movie's folder
    id: int | None = None
    time: float | None = None
    person_id: int | None = None
    embedding_norm: float | None = None  # the recogniser's raw embedding length (clarity)
    thumb_path: str | None = None  # a small copy of the crop for pages (None: older stores)


@dataclass(frozen=True)
class PersonRow:
    person_id: int
    face_count: int
    first_seen: float
    last_seen: float
    best_face_id: int | None  # the portrait: the user's choice, else the clearest face
    hidden: bool = False  # the user keeps this person out of lists and exports


@dataclass(frozen=True)
class StageRun:
    """What the last successful run of a stage wrote into the store."""

    settings: dict
    stats: dict
    finished_at: str
    token: str  # identity of what it wrote: a stage's Dagster data version
    input_token: str  # the token of the upstream stage it read
    folder: str | None  # the version folder of its files, relative to the movie's folder
