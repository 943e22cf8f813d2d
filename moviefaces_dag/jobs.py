from dagster import AssetSelection, define_asset_job

process_movie = define_asset_job(
    "process_movie",
    selection=AssetSelection.groups("moviefaces"),
    description="Every stage for one movie: frames, faces, embeddings, people and the report.",
)

refresh_movie = define_asset_job(
    "refresh_movie",
    selection=AssetSelection.assets("movie"),
    description="Re-read a movie file's identity; downstream reruns only if its bytes changed.",
)
