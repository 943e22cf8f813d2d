"""Dagster's default run launcher, plus the health check that run monitoring needs.

Runs launched on this machine run in local processes; Dagster's `DefaultRunLauncher` cannot tell
whether one died, so a killed run would stay STARTED forever. This one can (run_health.py):
with `run_monitoring` enabled in dagster.yaml, the daemon marks such runs failed within a poll or
two, and `free_slots_after_run_end_seconds` gives their pool slots back.
"""

from __future__ import annotations

from dagster import DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus

from .run_health import HOST_TAG, run_is_dead, this_host


class LocalRunLauncher(DefaultRunLauncher):
    def launch_run(self, context: LaunchRunContext) -> None:
        self._instance.add_run_tags(context.dagster_run.run_id, {HOST_TAG: this_host()})
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        if run.tags.get(HOST_TAG) not in (None, this_host()):
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "started on another host")
        if run_is_dead(self._instance, run):
            return CheckRunHealthResult(WorkerStatus.FAILED, "the run's process is gone")
        return CheckRunHealthResult(WorkerStatus.RUNNING)
