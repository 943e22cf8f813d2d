"""How steps run: the pod resources a step asks for on Kubernetes, its Celery queue, and when a
failed step runs again by itself.

Every stage replaces its results in one transaction and a retried one starts from the same
draft, so retrying is always safe. It helps where a failure can pass: a face model server that
restarts, a worker that lost its network, the library reading a movie that was just
republished. A failure the user must fix (a bad movie, setting or store) is never retried
(resources/store.py raises it as final). Nor is any failure of a run tagged NO_RETRIES_TAG:
`moviefaces run`, where the user is waiting and Ctrl-C means stop.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import (
    AssetExecutionContext,
    Backoff,
    DagsterExecutionInterruptedError,
    Failure,
    Jitter,
    RetryPolicy,
)

from ...core.settings import value
from ..k8s import k8s_op_tags, stage_resources

# 10 s, 20 s, 40 s (give or take a few seconds so that many steps do not retry in step).
MODEL_RETRIES = RetryPolicy(max_retries=3, delay=10, backoff=Backoff.EXPONENTIAL,
                            jitter=Jitter.PLUS_MINUS)
LIBRARY_RETRIES = RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL)
NO_RETRIES_TAG = "moviefaces/retries"
# dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG (spelled out: the farm extra is optional). A step
# goes to the Celery queue of its kind, so GPU machines can take the face-model steps alone.
CELERY_QUEUE_TAG = "dagster-celery/queue"
CELERY_QUEUES = ("cpu", "gpu")


@contextmanager
def retried_unless_tagged(context: AssetExecutionContext) -> Iterator[None]:
    """Within the block, a failure of a run tagged NO_RETRIES_TAG=off is final.

    Dagster retries a step with a retry policy after any failure, an interrupt included (a
    preempted pod), and an in-process run (what `moviefaces run` starts) ignores the executor's
    `retries: disabled`: only a Failure that allows no retries stops it.
    """
    if context.run.tags.get(NO_RETRIES_TAG) != "off":
        yield
        return
    try:
        yield
    except Failure as failure:
        if not failure.allow_retries:
            raise
        raise Failure(description=failure.description, allow_retries=False) from failure
    except (Exception, KeyboardInterrupt, DagsterExecutionInterruptedError) as exc:
        raise Failure(description=str(exc) or type(exc).__name__, allow_retries=False) from exc


def op_tags(stage: str) -> dict[str, str]:
    """The stage's op tags for the face models' backend in force: its pod resources on
    Kubernetes, its queue on Celery (`gpu` where its pod would get a GPU, else `cpu`)."""
    backend = value("face_analyzer.backend")
    return {**k8s_op_tags(stage, backend),
            CELERY_QUEUE_TAG: celery_queue(stage, backend)}


def celery_queue(stage: str, backend: str) -> str:
    return "gpu" if stage_resources(stage, backend).gpus else "cpu"
