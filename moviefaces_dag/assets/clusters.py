from dagster import AssetExecutionContext, Config, MaterializeResult, asset
from pydantic import Field

from ..clustering import ClusterSettings
from ..partitions import movies_partitions
from ..pipeline import cluster_faces
from ..resources import MovieStoreResource
from .embeddings import face_embeddings


class ClusterConfig(Config):
    similarity_threshold: float | None = Field(
        None, gt=-1, lt=1,
        description="Cosine similarity joining two faces; default depends on the recogniser.",
    )
    min_faces: int = Field(2, ge=1, description="Smaller groups stay unassigned.")


@asset(deps=[face_embeddings], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"})
def face_clusters(
    context: AssetExecutionContext, config: ClusterConfig, store: MovieStoreResource
) -> MaterializeResult:
    """One person id per face within the movie, and the people table."""
    settings = ClusterSettings(similarity_threshold=config.similarity_threshold,
                               min_faces=config.min_faces)
    stats = cluster_faces(store.open(), context.partition_key, settings)
    context.log.info(f"{stats['people']} people from {stats['faces']} faces")
    return MaterializeResult(metadata=stats)
