import hashlib

from dagster import (
    AssetExecutionContext,
    Config,
    DataVersion,
    MaterializeResult,
    ResourceParam,
    asset,
)
from pydantic import Field

from ..partitions import movies_partitions
from ..pipeline import extract_frames
from ..progress import ProgressReporter
from ..resources import MovieStoreResource
from .movie import movie


class FramesConfig(Config):
    fps: float = Field(1.0, gt=0, description="Frames sampled per movie second (0.5 = one every 2 s).")
    duration: float | None = Field(None, gt=0, description="Stop sampling at this movie time (s).")


@asset(deps=[movie], partitions_def=movies_partitions, group_name="moviefaces",
       code_version="1", kinds={"sqlite"})
def frames(
    context: AssetExecutionContext,
    config: FramesConfig,
    store: MovieStoreResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """Frames sampled at `fps`, timestamped from the container, saved once as JPEG."""
    key = context.partition_key
    db = store.open()
    stats = extract_frames(db, key, store.output_path, config.fps, config.duration,
                           progress, context.log.info)
    fingerprint = db.get_movie(key).fingerprint or ""
    # The movie's fingerprint travels in this data version (see dagster issue 33988).
    version = hashlib.sha1(f"{fingerprint}|{config.fps}|{config.duration}".encode()).hexdigest()
    return MaterializeResult(
        data_version=DataVersion(version[:16]),
        metadata={**stats, "fps": config.fps, "duration": config.duration or "whole movie"},
    )
