from dagster import AssetExecutionContext, DataVersion, MaterializeResult, MetadataValue, asset

from ...pipeline.stages import follow_move, identify_movie
from ..partitions import movies_partitions
from ..resources import MovieStoreResource
from .steps import op_tags


@asset(partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"video"}, tags={"stage": "decode"}, op_tags=op_tags("movie"))
def movie(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """The movie file's identity: path, size, content fingerprint and container metadata.

    Cheap to rerun (the fingerprint is cached while size, mtime and inode hold); its data version
    is the content fingerprint, so downstream assets go stale only when the bytes change.
    """
    with store.writing(context) as draft:
        info = identify_movie(draft, store.sources())
        if follow_move(draft):  # the file was moved: the published pages name its new path
            context.log.info(f"movie {context.partition_key}: report republished for the file "
                             f"at {info['path']}")
    return MaterializeResult(
        data_version=DataVersion(info["fingerprint"]),
        metadata={
            "path": MetadataValue.path(info["path"]),
            "size_bytes": info["size"],
            "fingerprint": info["fingerprint"],
            "duration_s": round(info["duration"], 3),
            "fps": round(info["fps"], 3),
            "resolution": f"{info['width']}x{info['height']}",
            "codec": info["codec"],
            "container": info["container"],
        },
    )
