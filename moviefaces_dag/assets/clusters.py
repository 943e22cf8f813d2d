from dagster import AssetExecutionContext, DataVersion, MaterializeResult, asset

from ..partitions import movies_partitions
from ..pipeline import cluster_faces, stage_token
from ..resources import ClusteringResource, MovieStoreResource
from .embeddings import face_embeddings


@asset(deps=[face_embeddings], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"})
def face_clusters(
    context: AssetExecutionContext, clustering: ClusteringResource, store: MovieStoreResource
) -> MaterializeResult:
    """One person id per face within the movie, and the people table."""
    with store.writing(context) as draft:
        stats = cluster_faces(draft.db, clustering.settings())
        version = stage_token(draft.db, "face_clusters")
    context.log.info(f"{stats['people']} people from {stats['faces']} faces")
    return MaterializeResult(data_version=DataVersion(version), metadata=stats)
