"""Sensors: the movie folder watcher and the automation sensor."""

from __future__ import annotations

import json

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from ..pipeline.watch import scan, version_text
from .jobs import MovieJobs
from .partitions import MOVIES_PARTITION, movies_partitions
from .resources import MovieFolderResource, MovieStoreResource


def movie_folder_sensor(jobs: MovieJobs) -> SensorDefinition:
    """The folder watcher, requesting runs of these `jobs`."""

    @sensor(
        name="movie_folder_sensor",
        jobs=jobs.all(),
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description="Registers and processes movies dropped into the watched folder; re-reads "
        "registered movies whose files changed (downstream reruns only if the bytes changed).",
    )
    def watch_folder(context: SensorEvaluationContext, movie_folder: MovieFolderResource,
                     store: MovieStoreResource) -> SensorResult | SkipReason:
        return _tick(context, movie_folder, store, jobs)

    return watch_folder


def _tick(context: SensorEvaluationContext, movie_folder: MovieFolderResource,
          store: MovieStoreResource, jobs: MovieJobs) -> SensorResult | SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    rejected_before = cursor.get("rejected", {})
    reported_vanished = set(cursor.get("vanished", []))
    found = scan(movie_folder.path, store.registry(), movie_folder.settle_seconds, rejected_before)

    for why, _ in found.rejected.values():
        context.log.warning(f"skipped, not registered: {why}")
    for key, path in found.renamed.items():
        context.log.info(f"movie {key} renamed to {path}; nothing to rerun")
    for key, path in found.vanished.items():
        if key not in reported_vanished:
            context.log.warning(f"movie {key}: file {path} is gone; its data is kept")

    # Every movie of the folder that was never processed gets its run, whatever happened to an
    # earlier tick: the run key makes Dagster launch it once per version of the file (a file
    # registered and then replaced by a longer one gets a run of its own).
    processed = context.instance.get_materialized_partitions(AssetKey("movie"))
    new = {key: path for key, path in found.found.items() if key not in processed}
    # Once a dataset was asked for (materialized for any movie), every new movie gets one.
    job = jobs.process_and_export_movie if context.instance.get_materialized_partitions(
        AssetKey("face_dataset")) else jobs.process_movie
    requests = [
        RunRequest(job_name=job.name, partition_key=key,
                   run_key=f"new:{key}:{path}:{version_text(path)}")
        for key, path in sorted(new.items())
    ] + [
        RunRequest(job_name=jobs.refresh_movie.name, partition_key=key,
                   run_key=f"refresh:{key}:{':'.join(map(str, identity))}")
        for key, identity in found.changed.items()
    ] + [
        RunRequest(job_name=jobs.refresh_movie.name, partition_key=key,
                   run_key=f"moved:{key}:{path}")
        for key, path in found.renamed.items()
    ]
    rejected = {**rejected_before, **{p: version for p, (_, version) in found.rejected.items()}}
    new_cursor = json.dumps({"rejected": rejected, "vanished": sorted(found.vanished)})
    missing = sorted(k for k in new if not context.instance.has_dynamic_partition(
        MOVIES_PARTITION, k))
    if not requests:
        context.update_cursor(new_cursor)
        return SkipReason("no new or changed movies")
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[movies_partitions.build_add_request(missing)],
        cursor=new_cursor,
    )


def automation_sensor(tags: dict[str, str]) -> AutomationConditionSensorDefinition:
    """The sensor that reruns what changed; its runs carry `tags` (the code versions)."""
    return AutomationConditionSensorDefinition(
        "moviefaces_automation",
        target=AssetSelection.all(),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        run_tags=tags,
        description="Reruns movie partitions whose inputs or settings changed.",
    )
