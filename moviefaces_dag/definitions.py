"""The moviefaces code location."""

from dagster import AssetSelection, Definitions, define_asset_job

from .assets import all_assets
from .partitions import movies_partitions
from .progress import LogProgress
from .resources import FaceAnalyzerResource, MovieStoreResource

process_movie = define_asset_job(
    "process_movie", selection=AssetSelection.assets(*all_assets), partitions_def=movies_partitions
)

defs = Definitions(
    assets=all_assets,
    jobs=[process_movie],
    resources={
        "store": MovieStoreResource(),
        "face_analyzer": FaceAnalyzerResource(),
        "progress": LogProgress(),
    },
)
