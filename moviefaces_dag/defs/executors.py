"""Steps on Celery workers (dagster-celery) or Kubernetes pods (dagster-k8s), as the
farm.executor setting says.

The Celery broker is RabbitMQ: it hands a step back to the queue the moment its worker's
connection drops, so a step whose worker was killed runs again on another one. (Redis hands it
back only after a visibility timeout that must outlast the longest step; kombu's SQLAlchemy
transport never does.) Steps are acknowledged when done, not when taken, and a worker takes one
at a time, so a dead worker holds nothing back.
"""

from __future__ import annotations

from typing import Any

from dagster import ExecutorDefinition

from ..core.settings import SettingError, value

WORKER_OPTIONS: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
}


def celery_config() -> dict[str, Any] | None:
    """The dagster-celery executor's config from the settings (None without a broker)."""
    broker = value("farm.celery_broker")
    if broker is None:
        return None
    return {"broker": broker, "backend": value("farm.celery_backend"),
            "config_source": WORKER_OPTIONS}


def farm_executor() -> ExecutorDefinition | None:
    """The executor farm.executor names, or None for Dagster's default (processes)."""
    executor = value("farm.executor")
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
    return None
