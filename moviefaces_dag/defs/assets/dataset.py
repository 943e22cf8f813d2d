from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from ...people.library import library_ids, library_names
from ...report.export import FORMATS, default_export_dir, export_dataset
from ..partitions import movies_partitions
from ..resources import MovieStoreResource
from .report import movie_report
from .steps import op_tags


class DatasetConfig(Config):
    formats: list[str] = Field(
        default_factory=lambda: list(FORMATS),
        description=f"Which of {', '.join(FORMATS)} to write.",
    )


# Its own group: the process_movie job and `moviefaces run` leave it out; materialize it when a
# dataset is wanted. It then stays fresh under automation, and the folder sensor makes one for
# every new movie.
@asset(deps=[movie_report], partitions_def=movies_partitions, group_name="exports",
       kinds={"folder"}, tags={"stage": "export"}, op_tags=op_tags("face_dataset"))
def face_dataset(
    context: AssetExecutionContext, config: DatasetConfig, store: MovieStoreResource
) -> MaterializeResult:
    """`<output>/<movie>/dataset/<format>`: the people as a labelled dataset (person folders
    with montages, YOLO annotations, JSON lines with embeddings), as `moviefaces export` writes."""
    key = context.partition_key
    library = store.library_reading()
    ids, names = library_ids(library), library_names(library)
    metadata: dict = {}
    with store.writing(context, needs=("frames", "faces")) as draft:
        for fmt in config.formats:
            out = default_export_dir(draft.folder, fmt)
            result = export_dataset(draft.folder, out, fmt, ids, names)
            store.publish_folder(key, out.relative_to(draft.folder.path).as_posix(), out)
            metadata[f"{fmt}_path"] = MetadataValue.path(store.location(key, "dataset", fmt))
            metadata.update({f"{fmt}_{k}": v for k, v in result.items()
                             if k not in ("path", "movie", "partition", "format")})
    return MaterializeResult(metadata=metadata)
