from dagster import (
    AssetExecutionContext,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ...people.decisions import Decisions
from ...pipeline.library import publish_library
from ...pipeline.stages import show_library_names
from ...store.library_db import LIBRARY_PAGE
from ...store.shared import LIBRARY
from ..resources import MovieStoreResource
from .report import movie_report
from .steps import LIBRARY_RETRIES, op_tags, retried_unless_tagged


@asset(group_name="library", kinds={"json"}, tags={"stage": "library"})
def library_decisions(store: MovieStoreResource) -> MaterializeResult:
    """What the user decided about people across movies (`<output>/library/decisions.json`:
    links, unlinks, names), written by `moviefaces library`, never by a stage. Its data version
    is their digest: a new decision rebuilds the library and nothing else."""
    decisions = Decisions(store.decisions_folder(LIBRARY), library=True)
    return MaterializeResult(data_version=DataVersion(decisions.digest()),
                             metadata={"decisions": len(decisions.load())})


@asset(deps=[movie_report, library_decisions], group_name="library", kinds={"sqlite", "html"},
       tags={"stage": "library"}, retry_policy=LIBRARY_RETRIES, op_tags=op_tags("library"))
def library(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """People across movies: each movie's people linked to the same people in other movies
    (same recogniser only, precision first), who met whom, and `<output>/index.html`. The one
    writer of library-level data; built once after movie runs, never by a movie's report."""
    with retried_unless_tagged(context), store.library_writing() as root:
        result = publish_library(root)
        show_library_names(root, result["names_changed"])
    for stale in result["stale_decisions"]:
        context.log.warning(f"library decision not applied: {stale}")
    return MaterializeResult(
        data_version=DataVersion(result["generation"]),
        metadata={
            "path": MetadataValue.path(store.location(LIBRARY_PAGE)),
            "url": MetadataValue.url(store.url(LIBRARY_PAGE)),
            "dagster/row_count": result["people"],
            "people_across_movies": result["across_movies"],
            "met_pairs": result["met_pairs"],
            "stale_decisions": len(result["stale_decisions"]),
            "movies_read": result["movies_read"],  # published anew since the last build
            "movies_kept": result["movies_kept"],
        },
    )
