from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ..partitions import movies_partitions
from ..pipeline import write_report
from ..report import duration_text
from ..resources import MovieStoreResource
from .clusters import face_clusters


@asset(deps=[face_clusters], partitions_def=movies_partitions, group_name="moviefaces",
       kinds={"html"})
def movie_report(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """`<output>/<movie>/index.html`: every person, most face images first, with thumbnails,
    a page per person, and the library page `<output>/index.html` listing every movie."""
    result = write_report(store.open(), context.partition_key, store.output_path)
    rows = "".join(f"| {number} | {count} | {duration_text(seconds)} |\n"
                   for number, count, seconds in result["top_people"])
    table = "| person | faces | screen time (est.) |\n|---:|---:|---:|\n" + rows
    return MaterializeResult(metadata={
        "path": MetadataValue.path(result["path"]),
        "url": MetadataValue.url(Path(result["path"]).as_uri()),
        "library": MetadataValue.url(Path(result["library"]).as_uri()),
        "people": result["people"],
        "faces": result["faces"],
        "unassigned_faces": result["unassigned"],
        "possibly_same_pairs": result["pairs"],
        "top_people": MetadataValue.md(table if rows else "No people found."),
    })
