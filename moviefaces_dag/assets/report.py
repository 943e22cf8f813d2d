from pathlib import Path

from dagster import (
    AssetExecutionContext,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..partitions import movies_partitions
from ..pipeline import publish_report
from ..report import duration_text, render_library
from ..resources import MovieStoreResource
from .clusters import face_clusters


@asset(deps=[face_clusters], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"html"})
def movie_report(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """`<output>/<movie>/index.html`: every person, most face images first, with thumbnails and
    a page per person. Writing it publishes the movie's result: readers switch to it at once."""
    with store.writing(context) as draft:
        result = publish_report(draft)
    library = render_library(store.root())
    rows = "".join(f"| {number} | {count} | {duration_text(seconds)} |\n"
                   for number, count, seconds in result["top_people"])
    table = "| person | faces | screen time (est.) |\n|---:|---:|---:|\n" + rows
    return MaterializeResult(data_version=DataVersion(result["generation"]), metadata={
        "path": MetadataValue.path(result["path"]),
        "url": MetadataValue.url(Path(result["path"]).as_uri()),
        "library": MetadataValue.url(library.as_uri()),
        "generation": result["generation"],
        "people": result["people"],
        "faces": result["faces"],
        "unassigned_faces": result["unassigned"],
        "possibly_same_pairs": result["pairs"],
        "top_people": MetadataValue.md(table if rows else "No people found."),
    })
