import hashlib

from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ..partitions import movies_partitions
from ..pipeline import extract_frames
from ..progress import ProgressReporter
from ..resources import MovieStoreResource, SamplingResource
from .movie import movie


@asset(deps=[movie], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"})
def frames(
    context: AssetExecutionContext,
    sampling: SamplingResource,
    store: MovieStoreResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """Frames sampled at `fps`, timestamped from the container, saved once as JPEG."""
    key = context.partition_key
    db = store.open()
    stats = extract_frames(db, key, store.output_path, sampling.fps, sampling.duration,
                           progress, context.log.info)
    fingerprint = db.get_movie(key).fingerprint or ""
    # The movie's content fingerprint travels in this data version: downstream assets go stale
    # when the bytes or the sampling change, never on a no-op rerun (see dagster issue 33988).
    # So does how the frames were adjusted for display, when they were (rotated, anamorphic or
    # interlaced movies), so that detection reruns if that changes; plain movies keep their
    # version.
    identity = f"{fingerprint}|{sampling.fps}|{sampling.duration}"
    if stats["display"]:
        identity += "|" + ";".join(stats["display"])
    version = hashlib.sha1(identity.encode())
    return MaterializeResult(
        data_version=DataVersion(version.hexdigest()[:16]),
        metadata={**stats, "display": ", ".join(stats["display"]) or "as stored",
                  "fps": sampling.fps, "duration": sampling.duration or "whole movie"},
    )
