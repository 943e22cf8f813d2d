from dagster import AssetExecutionContext, MaterializeResult, asset

from ..partitions import movies_partitions
from ..pipeline import cluster_faces
from ..resources import ClusteringResource, MovieStoreResource
from .embeddings import face_embeddings


@asset(deps=[face_embeddings], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"})
def face_clusters(
    context: AssetExecutionContext, clustering: ClusteringResource, store: MovieStoreResource
) -> MaterializeResult:
    """One person id per face within the movie, and the people table."""
    stats = cluster_faces(store.open(), context.partition_key, clustering.settings())
    context.log.info(f"{stats['people']} people from {stats['faces']} faces")
    return MaterializeResult(metadata=stats)
