from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ..partitions import movies_partitions
from ..pipeline import embed_faces, stage_token
from ..progress import ProgressReporter
from ..resources import FaceAnalyzerResource, MovieStoreResource
from .detections import face_detections


@asset(deps=[face_detections], partitions_def=movies_partitions, group_name="moviefaces",
       pool="face_models",
       kinds={"sqlite"})
def face_embeddings(
    context: AssetExecutionContext,
    store: MovieStoreResource,
    face_analyzer: FaceAnalyzerResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """An L2-normalised embedding per face, from the face aligned to the ArcFace template."""
    with store.writing(context) as draft, face_analyzer.analyzer() as analyzer:
        stats = embed_faces(draft, analyzer, face_analyzer.recognizer_settings(), progress,
                            context.log.info)
        version = stage_token(draft.db, "face_embeddings")
    return MaterializeResult(data_version=DataVersion(version), metadata=stats)
