from dagster import AssetExecutionContext, DataVersion, MaterializeResult, ResourceParam, asset

from ..partitions import movies_partitions
from ..pipeline import detect_faces, stage_token
from ..progress import ProgressReporter
from ..resources import FaceAnalyzerResource, MovieStoreResource
from .frames import frames


@asset(deps=[frames], partitions_def=movies_partitions, group_name="moviefaces",
       pool="face_models",
       kinds={"sqlite"})
def face_detections(
    context: AssetExecutionContext,
    store: MovieStoreResource,
    face_analyzer: FaceAnalyzerResource,
    progress: ResourceParam[ProgressReporter],
) -> MaterializeResult:
    """Face boxes, scores, 5 landmarks and quality figures per frame; a padded crop per face."""
    settings = face_analyzer.detector_settings()
    with store.writing(context) as draft, face_analyzer.analyzer() as analyzer:
        settings["models"] = f"{analyzer.detector_id} + {analyzer.recognizer_id}"
        stats = detect_faces(draft, analyzer, settings, progress, context.log.info)
        version = stage_token(draft.db, "face_detections")
    return MaterializeResult(data_version=DataVersion(version),
                             metadata={**stats, "detector": settings["models"]})
