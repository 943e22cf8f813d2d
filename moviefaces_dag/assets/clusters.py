from typing import Literal

from dagster import AssetExecutionContext, Config, MaterializeResult, asset
from pydantic import Field

from ..clustering import DEFAULT_ALGORITHM, ClusterSettings
from ..partitions import movies_partitions
from ..pipeline import cluster_faces
from ..resources import MovieStoreResource
from .embeddings import face_embeddings


class ClusterConfig(Config):
    algorithm: Literal["average", "complete", "greedy", "dbscan", "hdbscan"] = Field(
        DEFAULT_ALGORITHM,
        description="average / complete linkage, greedy (online centroid), dbscan or hdbscan; "
                    "every one honours the quality gate and the video's constraints.",
    )
    similarity_threshold: float | None = Field(
        None, gt=-1, lt=1,
        description="Cosine similarity joining two faces; default depends on the recogniser "
                    "and the algorithm.",
    )
    min_faces: int = Field(2, ge=1, description="Smaller groups stay unassigned.")
    min_quality: float = Field(
        0.3, ge=0, le=1,
        description="Faces of lower quality (score, size, sharpness, pose) may join a person "
                    "but never start one.")
    min_score: float = Field(
        0.8, ge=0, le=1, description="Faces of lower detection score may join but not start.")
    min_shots: int = Field(
        2, ge=1, description="Groups seen in fewer shots stay unassigned unless they have many "
                             "faces (bystanders, faces on posters).")


@asset(deps=[face_embeddings], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"sqlite"})
def face_clusters(
    context: AssetExecutionContext, config: ClusterConfig, store: MovieStoreResource
) -> MaterializeResult:
    """One person id per face within the movie, and the people table."""
    settings = ClusterSettings(
        similarity_threshold=config.similarity_threshold, min_faces=config.min_faces,
        algorithm=config.algorithm, min_quality=config.min_quality, min_score=config.min_score,
        min_shots=config.min_shots)
    stats = cluster_faces(store.open(), context.partition_key, settings)
    context.log.info(f"{stats['people']} people from {stats['faces']} faces")
    return MaterializeResult(metadata=stats)
