from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ...core.progress import ProgressReporter
from ...pipeline.result_checks import missing_face_files
from ...pipeline.stages import detect_faces, stage_token
from ..checks import CROPS, check_result
from ..partitions import movies_partitions
from ..resources import FaceAnalyzerResource, MovieStoreResource
from .frames import frames
from .launch import refuse_launch_overrides
from .steps import MODEL_RETRIES, op_tags, retried_unless_tagged
from .tables import FACES


@asset(deps=[frames], partitions_def=movies_partitions, group_name="moviefaces",
       pool="face_models", retry_policy=MODEL_RETRIES, op_tags=op_tags("face_detections"),
       kinds={"sqlite"}, tags={"stage": "face-models"},
       check_specs=[CROPS], metadata={"dagster/column_schema": FACES})
def face_detections(
    context: AssetExecutionContext,
    store: MovieStoreResource,
    face_analyzer: FaceAnalyzerResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """Face boxes, scores, 5 landmarks and quality figures per frame; a padded crop per face."""
    settings = face_analyzer.detector_settings()
    refuse_launch_overrides(context, "face_detections", settings)
    with retried_unless_tagged(context), store.writing(context, needs=("frames",)) as draft, \
            face_analyzer.analyzer() as analyzer:
        settings["models"] = f"{analyzer.detector_id} + {analyzer.recognizer_id}"
        stats = detect_faces(draft, analyzer, settings, progress, context.log.info,
                             face_analyzer.tracking())
        version = stage_token(draft.db, "face_detections")
        missing = missing_face_files(draft.folder, draft.db)
    return MaterializeResult(
        data_version=DataVersion(version),
        metadata={**stats, "dagster/row_count": stats["faces"], "detector": settings["models"]},
        check_results=[check_result(CROPS, missing)],
    )
