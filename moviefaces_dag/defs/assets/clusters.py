from dataclasses import asdict

from dagster import AssetExecutionContext, DataVersion, MaterializeResult, asset

from ...people.decisions import Decisions
from ...pipeline.result_checks import same_frame_people
from ...pipeline.stages import cluster_faces, stage_token
from ..checks import ONE_FACE_PER_FRAME, check_result
from ..partitions import movies_partitions
from ..resources import ClusteringResource, MovieStoreResource
from .decisions import people_decisions
from .embeddings import face_embeddings
from .launch import refuse_launch_overrides
from .steps import op_tags
from .tables import PEOPLE


@asset(deps=[face_embeddings, people_decisions], partitions_def=movies_partitions,
       group_name="moviefaces", kinds={"sqlite"}, tags={"stage": "people"},
       op_tags=op_tags("face_clusters"),
       check_specs=[ONE_FACE_PER_FRAME], metadata={"dagster/column_schema": PEOPLE})
def face_clusters(
    context: AssetExecutionContext, clustering: ClusteringResource, store: MovieStoreResource
) -> MaterializeResult:
    """One person id per face within the movie, and the people table: ids kept from the last
    grouping where a person is substantially the same faces, the user's decisions applied."""
    settings = clustering.settings()
    refuse_launch_overrides(context, "face_clusters", asdict(settings))
    with store.writing(context) as draft:
        stats = cluster_faces(draft.db, settings, Decisions(draft.folder.path))
        version = stage_token(draft.db, "face_clusters")
        merges = same_frame_people(draft.db)
    context.log.info(f"{stats['people']} people from {stats['faces']} faces")
    for stale in stats["stale_decisions"]:
        context.log.warning(f"decision not applied: {stale}")
    return MaterializeResult(
        data_version=DataVersion(version),
        metadata={**stats, "dagster/row_count": stats["people"]},
        check_results=[check_result(ONE_FACE_PER_FRAME, merges)],
    )
