from dagster import (
    AssetExecutionContext,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TableRecord,
    asset,
)

from ...core.words import duration_text
from ...pipeline.result_checks import broken_links
from ...pipeline.stages import publish_report
from ...store.folder import REPORT_NAME
from ..checks import REPORT_COMPLETE, check_result
from ..partitions import movies_partitions
from ..resources import MovieStoreResource
from .clusters import face_clusters
from .steps import op_tags
from .tables import TOP_PEOPLE


@asset(deps=[face_clusters], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"html"}, tags={"stage": "report"}, op_tags=op_tags("movie_report"),
       check_specs=[REPORT_COMPLETE])
def movie_report(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """`<output>/<movie>/index.html`: every person, most face images first, with thumbnails and
    a page per person. Writing it publishes the movie's result: readers switch to it at once."""
    with store.writing(context) as draft:
        result = publish_report(draft)
        broken = broken_links(draft.folder, store.files(context.partition_key))
    url = store.url(context.partition_key, REPORT_NAME)
    # The run's last useful line on the console (`dg launch`): where the report is.
    context.log.info(f"report: {url}")
    top = [TableRecord({"person": label, "faces": count, "screen_time": duration_text(seconds)})
           for label, count, seconds in result["top_people"]]
    return MaterializeResult(
        data_version=DataVersion(result["generation"]),
        metadata={
            "path": MetadataValue.path(store.location(context.partition_key, REPORT_NAME)),
            "url": MetadataValue.url(url),
            "generation": result["generation"],
            "people": result["people"],
            "faces": result["faces"],
            "unassigned_faces": result["unassigned"],
            "possibly_same_pairs": result["pairs"],
            "top_people": MetadataValue.table(top, schema=TOP_PEOPLE),
        },
        check_results=[check_result(REPORT_COMPLETE, broken)],
    )
