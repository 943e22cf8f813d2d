from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from ..export import FORMATS, default_export_dir, export_dataset
from ..partitions import movies_partitions
from ..people.library import library_ids
from ..resources import MovieStoreResource
from .report import movie_report


class DatasetConfig(Config):
    formats: list[str] = Field(
        default_factory=lambda: list(FORMATS),
        description=f"Which of {', '.join(FORMATS)} to write.",
    )


# Its own group: the process_movie job and `moviefaces run` leave it out; materialize it when a
# dataset is wanted. It then stays fresh under automation, and the folder sensor makes one for
# every new movie.
@asset(deps=[movie_report], partitions_def=movies_partitions, group_name="exports",
       kinds={"folder"}, tags={"stage": "export"})
def face_dataset(
    context: AssetExecutionContext, config: DatasetConfig, store: MovieStoreResource
) -> MaterializeResult:
    """`<output>/<movie>/dataset/<format>`: the people as a labelled dataset (person folders
    with montages, YOLO annotations, JSON lines with embeddings), as `moviefaces export` writes."""
    folder = store.root().folder(context.partition_key)
    metadata: dict = {}
    for fmt in config.formats:
        result = export_dataset(folder, default_export_dir(folder, fmt), fmt,
                                library_ids(store.root()))
        metadata[f"{fmt}_path"] = MetadataValue.path(result["path"])
        metadata.update({f"{fmt}_{k}": v for k, v in result.items()
                         if k not in ("path", "movie", "partition", "format")})
    return MaterializeResult(metadata=metadata)
