"""Per-step Kubernetes resources: the `dagster-k8s/config` op tag that dagster-k8s reads for the
pod of each step (k8s_job_executor) and merges over the code location's container context.

Requests let the scheduler place a step where it fits; memory is limited (a step over its limit
is killed and retried instead of starving its neighbours), CPU is not (over its request a step
only slows down). Only the face-model stages on backend onnx take a GPU.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

# dagster_k8s.job.USER_DEFINED_K8S_CONFIG_KEY, spelled out so that the asset modules can build
# their tags without the optional `farm` extra installed.
K8S_CONFIG_TAG = "dagster-k8s/config"
FACE_MODEL_STAGES = frozenset({"face_detections", "face_embeddings"})
GPU = "nvidia.com/gpu"


class Resources(NamedTuple):
    cpu: str  # requested cores
    memory: str  # requested memory
    memory_limit: str
    gpus: int = 0


FACE_MODELS = {
    # SCRFD + ArcFace on the pod's own GPU: cores feed it frames, memory holds CUDA and batches.
    "onnx": Resources("2", "6Gi", "8Gi", gpus=1),
    # The networks run on the shared Triton server; the pod letterboxes, aligns and waits.
    "triton": Resources("2", "2Gi", "4Gi"),
    # YuNet + SFace on the pod's CPUs.
    "opencv": Resources("4", "3Gi", "4Gi"),
}
STAGES = {
    # PyAV decodes with several threads and scales every sampled frame.
    "frames": Resources("3", "2Gi", "4Gi"),
    # One movie's embeddings and similarity blocks (never the full n x n matrix).
    "face_clusters": Resources("1", "2Gi", "4Gi"),
    # Every movie's people and their embeddings, compared movie pair by movie pair.
    "library": Resources("1", "6Gi", "8Gi"),
}
# The rest (movie metadata, decisions, report, dataset export) reads tables and writes files.
SMALL = Resources("500m", "1Gi", "2Gi")


def stage_resources(stage: str, backend: str) -> Resources:
    """What `stage` needs when the face models run on `backend`."""
    if backend not in FACE_MODELS:
        raise ValueError(f"unknown face_analyzer backend {backend!r}; one of "
                         f"{', '.join(FACE_MODELS)}")
    return FACE_MODELS[backend] if stage in FACE_MODEL_STAGES else STAGES.get(stage, SMALL)


def k8s_op_tags(stage: str, backend: str) -> dict[str, str]:
    """The op tags giving `stage` its pod resources when the face models run on `backend`
    (the `face_analyzer.backend` setting: opencv, onnx or triton)."""
    wanted = stage_resources(stage, backend)
    limits = {"memory": wanted.memory_limit} | ({GPU: str(wanted.gpus)} if wanted.gpus else {})
    config: dict[str, Any] = {"container_config": {"resources": {
        "requests": {"cpu": wanted.cpu, "memory": wanted.memory},
        "limits": limits,
    }}}
    if wanted.gpus:
        # GPU nodes are usually tainted so that only pods asking for a GPU land there.
        config["pod_spec_config"] = {"tolerations": [
            {"key": GPU, "operator": "Exists", "effect": "NoSchedule"}]}
    return {K8S_CONFIG_TAG: json.dumps(config, sort_keys=True)}
