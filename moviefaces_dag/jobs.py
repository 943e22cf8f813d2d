from dagster import AssetSelection, define_asset_job

process_movie = define_asset_job(
    "process_movie",
    selection=AssetSelection.groups("moviefaces"),
    description="Every stage for one movie: frames, faces, embeddings, people and the report. "
                "Launch it for every registered movie as a backfill over all partitions.",
)

process_and_export_movie = define_asset_job(
    "process_and_export_movie",
    selection=AssetSelection.groups("moviefaces", "exports"),
    description="Every stage and the dataset export: what the folder sensor runs for new movies "
                "once a dataset was asked for (the face_dataset asset materialized).",
)

refresh_movie = define_asset_job(
    "refresh_movie",
    selection=AssetSelection.assets("movie"),
    description="Re-read a movie file's identity; downstream reruns only if its bytes changed.",
)
