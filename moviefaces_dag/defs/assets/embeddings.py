from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ...core.progress import ProgressReporter
from ...pipeline.result_checks import embedding_problems
from ...pipeline.stages import embed_faces, stage_token
from ..checks import EMBEDDED, check_result
from ..partitions import movies_partitions
from ..resources import FaceAnalyzerResource, MovieStoreResource
from .detections import face_detections
from .launch import refuse_launch_overrides
from .steps import MODEL_RETRIES, op_tags, retried_unless_tagged
from .tables import EMBEDDINGS


@asset(deps=[face_detections], partitions_def=movies_partitions, group_name="moviefaces",
       pool="face_models", retry_policy=MODEL_RETRIES, op_tags=op_tags("face_embeddings"),
       kinds={"sqlite"}, tags={"stage": "face-models"},
       check_specs=[EMBEDDED], metadata={"dagster/column_schema": EMBEDDINGS})
def face_embeddings(
    context: AssetExecutionContext,
    store: MovieStoreResource,
    face_analyzer: FaceAnalyzerResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """An L2-normalised embedding per face, from the face aligned to the ArcFace template."""
    settings = face_analyzer.recognizer_settings()
    refuse_launch_overrides(context, "face_embeddings", settings)
    with retried_unless_tagged(context), store.writing(context, needs=("frames",)) as draft, \
            face_analyzer.analyzer() as analyzer:
        stats = embed_faces(draft, analyzer, settings, progress, context.log.info,
                            face_analyzer.second())
        version = stage_token(draft.db, "face_embeddings")
        problems = embedding_problems(draft.db, analyzer.embedding_dimension)
    return MaterializeResult(
        data_version=DataVersion(version),
        metadata={**stats, "dagster/row_count": stats["faces"]},
        check_results=[check_result(EMBEDDED, problems)],
    )
