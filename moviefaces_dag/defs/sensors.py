"""Sensors: the movie folder watcher and the automation sensor."""

from __future__ import annotations

import json

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
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

PARTITION_TAG = "dagster/partition"
RUN_KEY_TAG = "dagster/run_key"
# Runs per version of a movie file that may end without a result before the sensor stops
# starting it again (a movie that fails for a reason of its own is not run forever).
MAX_ATTEMPTS = 5


def movie_folder_sensor(jobs: MovieJobs) -> SensorDefinition:
    """The folder watcher, requesting runs of these `jobs`."""

    @sensor(
        name="movie_folder_sensor",
        jobs=jobs.all(),
        # A scan reads the folder's listing and opens only new files: cheap enough to look
        # often, so a new movie, or one whose run died, waits little.
        minimum_interval_seconds=15,
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
    given_up: set[str] = set()
    sources = store.sources()
    found = scan(movie_folder.location, store.registry(), movie_folder.settle_seconds,
                 rejected_before, sources)

    for why, _ in found.rejected.values():
        context.log.warning(f"skipped, not registered: {why}")
    for key, path in found.renamed.items():
        context.log.info(f"movie {key} renamed to {path}; nothing to rerun")
    for key, path in found.vanished.items():
        if key not in reported_vanished:
            context.log.warning(f"movie {key}: file {path} is gone; its data is kept")

    # Every movie of the folder that was never published gets its run, whatever happened to an
    # earlier tick: the run key makes Dagster launch it once per version of the file (a file
    # registered and then replaced by a longer one gets a run of its own). A run that ended
    # without publishing (its process killed after the `movie` step, say) is followed by another
    # one, under the next key, up to MAX_ATTEMPTS runs per version: nothing else would ever
    # start it again (automation leaves never-materialized stages alone).
    published = context.instance.get_materialized_partitions(AssetKey("movie_report"))
    new = {key: path for key, path in found.found.items() if key not in published}
    # Once a dataset was asked for (materialized for any movie), every new movie gets one.
    job = jobs.process_and_export_movie if context.instance.get_materialized_partitions(
        AssetKey("face_dataset")) else jobs.process_movie
    requests = []
    for key, path in sorted(new.items()):
        run_key = f"new:{key}:{path}:{version_text(path, sources)}"
        attempt = _ended_without_result(context, key, run_key)
        if attempt >= MAX_ATTEMPTS:
            if attempt == MAX_ATTEMPTS and key not in cursor.get("given_up", []):
                context.log.warning(f"movie {key}: {attempt} runs ended without a result; "
                                    "not started again (run `moviefaces run` to retry)")
            given_up.add(key)
            continue
        requests.append(RunRequest(job_name=job.name, partition_key=key,
                                   run_key=run_key if not attempt else f"{run_key}:{attempt}"))
    requests += [
        RunRequest(job_name=jobs.refresh_movie.name, partition_key=key,
                   run_key=f"refresh:{key}:{':'.join(map(str, identity))}")
        for key, identity in found.changed.items()
    ] + [
        RunRequest(job_name=jobs.refresh_movie.name, partition_key=key,
                   run_key=f"moved:{key}:{path}")
        for key, path in found.renamed.items()
    ]
    rejected = {**rejected_before, **{p: version for p, (_, version) in found.rejected.items()}}
    new_cursor = json.dumps({"rejected": rejected, "vanished": sorted(found.vanished),
                             "given_up": sorted(given_up)})
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


def _ended_without_result(context: SensorEvaluationContext, key: str, run_key: str) -> int:
    """How many of this sensor's runs for this version of the movie (run keys `run_key` and
    `run_key:N`) ended without publishing: failed (a killed process, marked failed by run
    monitoring) or canceled."""
    runs = context.instance.get_runs(filters=RunsFilter(
        tags={PARTITION_TAG: key}, statuses=[DagsterRunStatus.FAILURE,
                                             DagsterRunStatus.CANCELED]))

    def attempt_of(tag: str) -> bool:
        return tag == run_key or (tag.startswith(run_key + ":")
                                  and tag[len(run_key) + 1:].isdigit())

    return sum(1 for run in runs if attempt_of(run.tags.get(RUN_KEY_TAG, "")))


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
