"""Which of a movie's stages must run again, from what Dagster recorded of their last runs.

A stage is up to date when its last materialization of the partition carries today's code
version and was made from the data version its upstream stage has now; otherwise it, and every
stage after it, runs again. `moviefaces run` uses this so that a rerun with unchanged settings
recomputes nothing, and a new clustering threshold reruns only clusters and the report (the
same rule as the automation sensor's, for one movie and without the daemon).
"""

from __future__ import annotations

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

# The movie's stages in order, each made from the one before it.
CHAIN = ("movie", "frames", "face_detections", "face_embeddings", "face_clusters",
         "movie_report")
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


def out_of_date(instance: DagsterInstance, partition: str, code_versions: dict[str, str],
                also: set[str] = frozenset()) -> list[str]:
    """The stages after `movie` that must run, in order: the first one out of date (or in
    `also`, what the store itself lacks) and every one after it."""
    previous = _tags(instance, "movie", partition)
    for n, stage in enumerate(CHAIN[1:], start=1):
        tags = _tags(instance, stage, partition)
        if stage in also or tags is None or tags.get(_CODE_VERSION) != code_versions[stage]:
            return list(CHAIN[n:])
        # The upstream materialization this one was made from, against the upstream's latest.
        pointer = tags.get(_INPUT_POINTER + CHAIN[n - 1])
        used = _tags(instance, CHAIN[n - 1], partition, int(pointer)) if pointer else None
        if used is None or previous is None or \
                used.get(_DATA_VERSION) != previous.get(_DATA_VERSION):
            return list(CHAIN[n:])
        previous = tags
    return []
