from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ...core.progress import ProgressReporter
from ...pipeline.stages import extract_frames, stage_token
from ..partitions import movies_partitions
from ..resources import MovieStoreResource, SamplingResource
from .launch import refuse_launch_overrides
from .movie import movie
from .steps import op_tags
from .tables import FRAMES


@asset(deps=[movie], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"}, tags={"stage": "decode"}, op_tags=op_tags("frames"),
       metadata={"dagster/column_schema": FRAMES})
def frames(
    context: AssetExecutionContext,
    sampling: SamplingResource,
    store: MovieStoreResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """Frames sampled at `fps`, timestamped from the container, saved once as JPEG."""
    refuse_launch_overrides(context, "frames", sampling.settings())
    with store.writing(context) as draft:
        stats = extract_frames(draft, sampling.fps, sampling.duration, progress,
                               context.log.info, store.sources())
        # The data version says what was sampled (the movie's content, the sampling, the display
        # handling, the instants): downstream assets go stale when that changes, never on a
        # no-op rerun (see dagster issue 33988).
        version = stage_token(draft.db, "frames")
    if "damage" in stats:
        context.log.warning(stats["damage"])
    return MaterializeResult(
        data_version=DataVersion(version),
        metadata={**stats, "dagster/row_count": stats["frames"],
                  "display": ", ".join(stats["display"]) or "as stored",
                  "fps": sampling.fps, "duration": sampling.duration or "whole movie"},
    )
