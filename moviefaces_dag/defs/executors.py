"""Where a run's steps run, as the farm.executor setting says: in the run's own process (the
default), a process each, Celery workers (dagster-celery) or Kubernetes pods (dagster-k8s).

The Celery broker is RabbitMQ: it hands a step back to the queue the moment its worker's
connection drops, so a step whose worker was killed runs again on another one. (Redis hands it
back only after a visibility timeout that must outlast the longest step; kombu's SQLAlchemy
transport never does.) Steps are acknowledged when done, not when taken, and a worker takes one
at a time, so a dead worker holds nothing back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dagster import (
    DagsterEvent,
    ExecutorDefinition,
    Field,
    InitExecutorContext,
    multi_or_in_process_executor,
)
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor

from ..core.settings import SettingError, value
from .run_health import record_host

WORKER_OPTIONS: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
    # A step without a `dagster-celery/queue` tag (decisions, asset checks) goes to the CPU
    # workers' queue, not to dagster-celery's `dagster`, which no `moviefaces worker` takes.
    "task_default_queue": "cpu",
}


def celery_config() -> dict[str, Any] | None:
    """The dagster-celery executor's config from the settings (None without a broker)."""
    broker = value("farm.celery_broker")
    if broker is None:
        return None
    return {"broker": broker, "backend": value("farm.celery_backend"),
            "config_source": WORKER_OPTIONS}


def farm_executor() -> ExecutorDefinition:
    """The executor farm.executor names: on this machine, in the run's process or a process per
    step (recording the run's host), or Celery workers, or Kubernetes pods."""
    executor = value("farm.executor")
    if executor == "processes":
        return process_executor
    if executor == "celery":
        config = celery_config()
        if config is None:
            raise SettingError("farm.executor is celery but farm.celery_broker is unset; "
                               "name the RabbitMQ broker (amqp://user:password@host:5672//)")
        from dagster_celery import celery_executor

        return celery_executor.configured(config)
    if executor == "kubernetes":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    return local_executor


class HostRecordingExecutor(Executor):
    """An executor that first tags the run with the host of the process executing it
    (run_health.py), then executes as `inner` does: any dead run can then be told from one on
    another machine, whoever started it (`dagster asset materialize`, the UI, a sensor)."""

    def __init__(self, inner: Executor):
        self.inner = inner

    @property
    def retries(self) -> RetryMode:
        return self.inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self.inner.step_dependency_config

    def execute(self, plan_context: PlanOrchestrationContext,
                execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        record_host(plan_context.instance, plan_context.run_id)
        yield from self.inner.execute(plan_context, execution_plan)


def _local_executor(init_context: InitExecutorContext) -> Executor:
    create = multi_or_in_process_executor.executor_creation_fn
    assert create is not None
    return HostRecordingExecutor(create(init_context))


def _local(default: dict[str, Any]) -> ExecutorDefinition:
    """Dagster's default executor, recording the run's host, with `default` as its config (a
    run's config may still choose `in_process` or `multiprocess`)."""
    choices = multi_or_in_process_executor.config_schema.as_field().config_type
    return ExecutorDefinition(
        name=multi_or_in_process_executor.name,
        config_schema=Field(choices, default_value=default),
        requirements=multi_or_in_process_executor.get_requirements,
        executor_creation_fn=_local_executor,
        description="Dagster's default executor; the run is tagged with its host first.",
    )


# A run's steps one after another in the run's own process: a movie's steps run in sequence
# anyway, and a process per step costs more than the steps of a short movie (Python, Dagster
# and the code location imported again each time: 7-20 s a step under load on 2 cores, for
# steps of 0-6 s; docs/nothing-lost.md, the chaos run). A killed run takes its step with it.
local_executor = _local({"in_process": {}})
# A process per step (Dagster's default): a crashing native library takes only its step down.
process_executor = _local({"multiprocess": {}})
