"""The stages of a movie run as plain functions over the store, the face models and the report,
plus what must hold of their results and the scan of a movie folder. Dagster's assets, the CLI
and the benchmarks call these; nothing here knows Dagster."""
