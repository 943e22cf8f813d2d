"""Settings that shape a stage's results are fixed where the code location loads.

A stage's code version hashes its settings, so that Dagster knows what a change reruns. A
setting changed only in one run's config would change the results without changing the
recorded version; such a run is refused with one line saying where to change it instead.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetExecutionContext, Failure

from ..versions import stage_version


def refuse_launch_overrides(context: AssetExecutionContext, stage: str,
                            settings: dict[str, Any]) -> None:
    declared = context.assets_def.code_versions_by_key.get(context.asset_key)
    if declared is not None and declared != stage_version(stage, settings):
        raise Failure(
            f"{stage}: settings given in this run's config ({settings}) differ from the code "
            "location's; set them where it loads (the environment or $MOVIEFACES_SETTINGS, see "
            "`moviefaces settings`) so that Dagster records which results they change")
