"""Sensors: the movie folder watcher and the automation sensor."""

from __future__ import annotations

import json

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from .jobs import process_movie, refresh_movie
from .partitions import movies_partitions
from .resources import MovieFolderResource, MovieStoreResource
from .watch import scan


@sensor(
    jobs=[process_movie, refresh_movie],
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Registers and processes movies dropped into the watched folder; re-reads "
    "registered movies whose files changed (downstream reruns only if the bytes changed).",
)
def movie_folder_sensor(
    context: SensorEvaluationContext, movie_folder: MovieFolderResource, store: MovieStoreResource
) -> SensorResult | SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    rejected_before = cursor.get("rejected", {})
    reported_vanished = set(cursor.get("vanished", []))
    found = scan(movie_folder.path, store.open(), movie_folder.settle_seconds, rejected_before)

    for why, _ in found.rejected.values():
        context.log.warning(f"not a movie, skipped: {why}")
    for key, path in found.renamed.items():
        context.log.info(f"movie {key} renamed to {path}; nothing to rerun")
    for key, path in found.vanished.items():
        if key not in reported_vanished:
            context.log.warning(f"movie {key}: file {path} is gone; its data is kept")

    requests = [
        RunRequest(job_name=process_movie.name, partition_key=key, run_key=f"new:{key}:{path}")
        for key, path in found.new.items()
    ] + [
        RunRequest(job_name=refresh_movie.name, partition_key=key,
                   run_key=f"refresh:{key}:{':'.join(map(str, identity))}")
        for key, identity in found.changed.items()
    ]
    rejected = {**rejected_before, **{p: version for p, (_, version) in found.rejected.items()}}
    new_cursor = json.dumps({"rejected": rejected, "vanished": sorted(found.vanished)})
    if not requests:  # every new movie has a request, so there are no partitions to add either
        context.update_cursor(new_cursor)
        return SkipReason("no new or changed movies")
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[movies_partitions.build_add_request(sorted(found.new))],
        cursor=new_cursor,
    )


automation_sensor = AutomationConditionSensorDefinition(
    "moviefaces_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Reruns movie partitions whose inputs or settings changed.",
)
