"""Which of a movie's stages must run again, from what Dagster recorded of their last runs.

A stage is up to date when its last materialization of the partition carries today's code
version and was made from the data versions its upstream stages have now; otherwise it, and every
stage after it, runs again. `moviefaces run` uses this so that a rerun with unchanged settings
recomputes nothing, and a new clustering threshold reruns only clusters and the report (the
same rule as the automation sensor's, for one movie and without the daemon).
"""

from __future__ import annotations

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

# What each stage is made from. The first two are read afresh by every run: the movie file's
# identity and the user's decisions (both cheap).
UPSTREAM = {
    "frames": ("movie",),
    "face_detections": ("frames",),
    "face_embeddings": ("face_detections",),
    "face_clusters": ("face_embeddings", "people_decisions"),
    "movie_report": ("face_clusters",),
}
SOURCES = ("movie", "people_decisions")
STAGES = tuple(UPSTREAM)  # in order
_CODE_VERSION = "dagster/code_version"
_DATA_VERSION = "dagster/data_version"
_INPUT_POINTER = "dagster/input_event_pointer/"


def _tags(instance: DagsterInstance, stage: str, partition: str,
          at: int | None = None) -> dict[str, str] | None:
    """The tags of the stage's latest materialization of the partition (the one with storage
    id `at`, if given)."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(stage), asset_partitions=[partition],
                           before_storage_id=None if at is None else at + 1), limit=1
    ).records
    if not records or (at is not None and records[0].storage_id != at):
        return None
    return dict(records[0].asset_materialization.tags or {})


def _storage_id(pointer: str | None) -> int | None:
    """The storage id an input pointer names; Dagster writes "NULL" when the upstream had no
    materialization then (a stage run on its own, e.g. by `dagster asset materialize`)."""
    return int(pointer) if pointer and pointer.isdigit() else None


def out_of_date(instance: DagsterInstance, partition: str, code_versions: dict[str, str],
                also: set[str] = frozenset()) -> list[str]:
    """The stages that must run, in order: the first one out of date (or in `also`, what the
    store itself lacks) and every one after it."""
    latest = {stage: _tags(instance, stage, partition) for stage in (*SOURCES, *STAGES)}
    for n, stage in enumerate(STAGES):
        tags = latest[stage]
        if stage in also or tags is None or tags.get(_CODE_VERSION) != code_versions[stage]:
            return list(STAGES[n:])
        for upstream in UPSTREAM[stage]:
            # The upstream materialization this one was made from, against its latest.
            pointer = _storage_id(tags.get(_INPUT_POINTER + upstream))
            used = None if pointer is None else _tags(instance, upstream, partition, pointer)
            now = latest[upstream]
            if used is None or now is None or used.get(_DATA_VERSION) != now.get(_DATA_VERSION):
                return list(STAGES[n:])
    return []


def decisions_read(instance: DagsterInstance, partition: str) -> str | None:
    """The digest of the decisions as people_decisions last read them (its data version)."""
    tags = _tags(instance, "people_decisions", partition)
    return tags.get(_DATA_VERSION) if tags else None


def _latest_id(instance: DagsterInstance, asset: str, partition: str | None) -> int | None:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset),
                           asset_partitions=[partition] if partition else None), limit=1).records
    return records[0].storage_id if records else None


def library_out_of_date(instance: DagsterInstance, partition: str) -> bool:
    """Whether the library was built before this movie's latest report (or never)."""
    built = _latest_id(instance, "library", None)
    report = _latest_id(instance, "movie_report", partition)
    return built is None or (report is not None and report > built)
