"""The jobs. Their runs carry the code versions of the code location that defines them
(`tags`, from assets/launch.py), which every step checks against its own."""

from dataclasses import dataclass

from dagster import AssetSelection, define_asset_job
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,  # what define_asset_job returns; not exported by dagster
)


@dataclass(frozen=True)
class MovieJobs:
    process_movie: UnresolvedAssetJobDefinition
    process_and_export_movie: UnresolvedAssetJobDefinition
    refresh_movie: UnresolvedAssetJobDefinition

    def all(self) -> list[UnresolvedAssetJobDefinition]:
        return [self.process_movie, self.process_and_export_movie, self.refresh_movie]


def movie_jobs(tags: dict[str, str]) -> MovieJobs:
    return MovieJobs(
        process_movie=define_asset_job(
            "process_movie",
            selection=AssetSelection.groups("moviefaces"),
            tags=tags,
            description="Every stage for one movie: frames, faces, embeddings, people and the "
                        "report. Launch it for every registered movie as a backfill over all "
                        "partitions.",
        ),
        process_and_export_movie=define_asset_job(
            "process_and_export_movie",
            selection=AssetSelection.groups("moviefaces", "exports"),
            tags=tags,
            description="Every stage and the dataset export: what the folder sensor runs for new "
                        "movies once a dataset was asked for (the face_dataset asset "
                        "materialized).",
        ),
        refresh_movie=define_asset_job(
            "refresh_movie",
            selection=AssetSelection.assets("movie"),
            tags=tags,
            description="Re-read a movie file's identity; downstream reruns only if its bytes "
                        "changed.",
        ),
    )
