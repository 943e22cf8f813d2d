"""Face models on an NVIDIA Triton Inference Server over gRPC.

Shapes, dtypes and batch limits come from the server's model metadata and config, never from
constants here. A server that does not answer is retried with backoff for a bounded time, then
reported in one line that names its URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .runners import ModelSpec, PooledRunner, TensorSpec
from .types import FaceModelError

T = TypeVar("T")
MAX_MESSAGE_BYTES = 2**31 - 1
# Statuses that mean "no server there (yet)": worth waiting for. Anything else is a real answer.
_RETRYABLE = {"StatusCode.UNAVAILABLE"}


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep calling a server that does not answer, and how fast to back off."""

    timeout_s: float = 30.0
    initial_backoff_s: float = 0.25
    max_backoff_s: float = 4.0


class TritonConnection:
    """One gRPC channel to one server, shared by the detector and recogniser runners."""

    def __init__(self, url: str, retry: RetryPolicy, request_timeout_s: float):
        import tritonclient.grpc as grpcclient

        self.url = url.removeprefix("grpc://")
        self.retry = retry
        self.request_timeout_s = request_timeout_s
        self.client = grpcclient.InferenceServerClient(self.url, channel_args=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # gRPC's own reconnect backoff grows to 2 minutes; keep it within our retry window.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", int(retry.max_backoff_s * 1000)),
        ])
        if not self.call("to connect", self.client.is_server_live):
            raise FaceModelError(f"Triton server at {self.url} says it is not live")

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """fn(*args), retried with backoff while the server is unreachable; any failure
        becomes one FaceModelError line naming the server and `what` was being done. The
        gRPC error is in that line and not chained: the CLI reports the innermost cause."""
        from tritonclient.utils import InferenceServerException

        started = time.monotonic()
        delay = self.retry.initial_backoff_s
        while True:
            try:
                return fn(*args, **kwargs)
            except InferenceServerException as exc:
                waited = time.monotonic() - started
                detail = _one_line(exc.message())
                if exc.status() == "StatusCode.DEADLINE_EXCEEDED":
                    raise FaceModelError(
                        f"Triton server at {self.url}: {what} took longer than "
                        f"{self.request_timeout_s:g} s (raise request_timeout_s?)"
                    ) from None
                if exc.status() not in _RETRYABLE:
                    raise FaceModelError(
                        f"Triton server at {self.url} failed {what}: {detail}"
                    ) from None
                if waited + delay > self.retry.timeout_s:
                    raise FaceModelError(
                        f"Triton server at {self.url} is down or unreachable: no answer for "
                        f"{waited:.1f} s ({what}; {detail}); start the server or fix the URL"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, self.retry.max_backoff_s)

    def model_spec(self, name: str, version: str) -> ModelSpec:
        """The model's tensors and batch limit, after checking it is there and ready."""
        ready = self.call(f"to check model {name!r}", self.client.is_model_ready, name, version)
        if not ready:
            index = self.call("to list models", self.client.get_model_repository_index,
                              as_json=True).get("models", [])
            entries = [m for m in index if m["name"] == name
                       and (not version or m.get("version") == version)]
            label = f"{name!r}" + (f" version {version}" if version else "")
            if not entries:
                problem = "is not on"
            else:
                entry = entries[-1]
                reason = f": {_one_line(entry['reason'])}" if entry.get("reason") else ""
                problem = f"is not ready ({entry.get('state') or 'not loaded'}{reason}) on"
            listed = ", ".join(f"{m['name']}" + (f" v{m['version']}" if m.get("version") else "")
                               + f" ({m.get('state') or 'not loaded'})" for m in index)
            raise FaceModelError(f"model {label} {problem} the Triton server at {self.url}; "
                                 f"the server has: {listed or 'no models'}")
        meta = self.call(f"to describe model {name!r}", self.client.get_model_metadata, name,
                         version, as_json=True)
        config = self.call(f"to describe model {name!r}", self.client.get_model_config, name,
                           version, as_json=True)["config"]
        inputs = tuple(_tensor(t, name) for t in meta.get("inputs", []))
        outputs = tuple(_tensor(t, name) for t in meta.get("outputs", []))
        max_batch = int(config.get("max_batch_size", 0))
        if max_batch <= 0:  # no server-side batching: the shape's first dimension says
            first = inputs[0].shape[0] if inputs and inputs[0].shape else -1
            max_batch = None if first == -1 else first
        return ModelSpec(name, inputs, outputs, max_batch)

    def close(self) -> None:
        self.client.close()


def _one_line(text: str, limit: int = 400) -> str:
    """Server messages can carry tracebacks; errors here stay one readable line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tensor(meta: dict[str, Any], model: str) -> TensorSpec:
    from tritonclient.utils import triton_to_np_dtype

    dtype = triton_to_np_dtype(meta["datatype"])
    if dtype is None or dtype is np.object_:
        raise FaceModelError(f"model {model!r} tensor {meta['name']!r} has type "
                             f"{meta['datatype']}; face models need numeric tensors")
    return TensorSpec(meta["name"], tuple(int(d) for d in meta.get("shape", [])), np.dtype(dtype))


class TritonRunner(PooledRunner):
    """One model on the server; `in_flight` requests at once keep the server busy."""

    def __init__(self, connection: TritonConnection, name: str, version: str = "",
                 in_flight: int = 4):
        self._connection = connection
        self.spec = connection.model_spec(name, version)
        self.version = version
        self.model_id = f"{name}@{version}" if version else name
        super().__init__(in_flight)

    def _run(self, array: np.ndarray) -> list[np.ndarray]:
        import tritonclient.grpc as grpcclient
        from tritonclient.utils import np_to_triton_dtype

        spec = self.spec
        tensor = grpcclient.InferInput(spec.inputs[0].name, list(array.shape),
                                       np_to_triton_dtype(array.dtype))
        tensor.set_data_from_numpy(array)
        wanted = [grpcclient.InferRequestedOutput(o.name) for o in spec.outputs]
        result = self._connection.call(
            f"inference on model {spec.name!r}", self._connection.client.infer, spec.name,
            [tensor], model_version=self.version, outputs=wanted,
            client_timeout=self._connection.request_timeout_s,
        )
        return [result.as_numpy(o.name) for o in spec.outputs]
