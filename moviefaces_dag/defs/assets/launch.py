"""Settings that shape a stage's results are fixed where the code location loads, and the same
on every machine that runs a step.

A stage's code version hashes its settings, so that Dagster knows what a change reruns. A
setting changed only in one run's config would change the results without changing the
recorded version; such a run is refused with one line saying where to change it instead. A
run carries the code versions of the machine that launched it (VERSIONS_TAG): a worker whose
settings or code differ refuses its step rather than record results under another version
(which would rerun them forever).
"""

from __future__ import annotations

import json
import socket
from typing import Any

from dagster import AssetExecutionContext, Failure

from ...core.versions import stage_version
from ..resources.defaults import code_versions

VERSIONS_TAG = "moviefaces/code_versions"


def launch_tags(resources: dict[str, Any]) -> dict[str, str]:
    """The run tags that carry these resources' code versions to every step."""
    return {VERSIONS_TAG: json.dumps(code_versions(resources), sort_keys=True,
                                     separators=(",", ":"))}


def refuse_launch_overrides(context: AssetExecutionContext, stage: str,
                            settings: dict[str, Any]) -> None:
    declared = context.assets_def.code_versions_by_key.get(context.asset_key)
    if declared is not None and declared != stage_version(stage, settings):
        raise Failure(
            f"{stage}: settings given in this run's config ({settings}) differ from the code "
            "location's; set them where it loads (the environment or $MOVIEFACES_SETTINGS, see "
            "`moviefaces settings`) so that Dagster records which results they change; or the "
            "stage's code changed since the code location loaded (reload it and run again)",
            allow_retries=False)
    launched = json.loads(context.run.tags.get(VERSIONS_TAG, "{}")).get(stage)
    if launched is not None and declared is not None and launched != declared:
        raise Failure(
            f"{stage}: this machine ({socket.gethostname()}) has other settings or code than "
            f"the one that launched the run ({stage} version {declared} here, {launched} "
            "there); give every machine the same settings file ($MOVIEFACES_SETTINGS), "
            "MOVIEFACES_* environment and moviefaces release (compare `moviefaces settings`)",
            allow_retries=False)
