from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ..partitions import movies_partitions
from ..pipeline import write_report
from ..resources import MovieStoreResource
from .clusters import face_clusters


@asset(deps=[face_clusters], partitions_def=movies_partitions, group_name="moviefaces",
       code_version="1", kinds={"html"})
def movie_report(context: AssetExecutionContext, store: MovieStoreResource) -> MaterializeResult:
    """`<output>/<movie>/index.html`: every person, most face images first, with thumbnails."""
    result = write_report(store.open(), context.partition_key, store.output_path)
    top = "\n".join(f"| {n} | {count} |" for n, count in result["top_people"])
    return MaterializeResult(metadata={
        "path": MetadataValue.path(result["path"]),
        "url": MetadataValue.url(Path(result["path"]).as_uri()),
        "people": result["people"],
        "faces": result["faces"],
        "top_people": MetadataValue.md(f"| person | faces |\n|---|---|\n{top}"),
    })
