"""The moviefaces code location.

Settings live in resources (configured from environment variables by default) and are hashed
into each asset's code version, so Dagster knows exactly which stages a settings change affects.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetsDefinition, Definitions, map_asset_specs

from .defs.assets import all_assets
from .defs.assets.launch import launch_tags
from .defs.automation import rebuild_library, rerun_when_changed
from .defs.executors import farm_executor
from .defs.jobs import movie_jobs
from .defs.resources.defaults import code_versions, default_resources
from .defs.sensors import automation_sensor, movie_folder_sensor


def versioned_assets(resources: dict[str, Any]) -> list[AssetsDefinition]:
    """The assets with code versions from these resources' settings, and the automation
    condition that reruns exactly what a change affects."""
    versions = code_versions(resources)
    return map_asset_specs(
        lambda spec: spec.replace_attributes(
            code_version=versions.get(spec.key.to_user_string(), spec.code_version),
            owners=["team:moviefaces"],
            automation_condition=rebuild_library() if spec.key.to_user_string() == "library"
            else rerun_when_changed(),
        ),
        all_assets,
    )


def build_definitions(**resource_overrides: Any) -> Definitions:
    resources = {**default_resources(), **resource_overrides}
    # Every run of these jobs and sensors carries these resources' code versions, which each
    # step checks against its own machine's (assets/launch.py).
    tags = launch_tags(resources)
    jobs = movie_jobs(tags)
    return Definitions(
        assets=versioned_assets(resources),
        jobs=jobs.all(),
        sensors=[movie_folder_sensor(jobs), automation_sensor(tags)],
        resources=resources,
        executor=farm_executor(),
    )


defs = build_definitions()
