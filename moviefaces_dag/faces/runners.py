"""Where a face model runs: onnxruntime in this process or a Triton server (triton_runner.py).

Both runners expose the same small interface, so the SCRFD and recogniser code above them is
one piece of code with two ways to execute the network.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .types import FaceModelError


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]  # the full shape, batch dimension included; -1 where it varies
    dtype: np.dtype


@dataclass(frozen=True)
class ModelSpec:
    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch: int | None  # the most items one call takes; None when the batch is unbounded


class ModelRunner(Protocol):
    """Runs one network: one input array in, its outputs in the spec's order out."""

    spec: ModelSpec
    model_id: str
    in_flight: int

    def submit(self, array: np.ndarray) -> Future[list[np.ndarray]]:
        """Start a call; blocks while the runner already has its limit of calls in flight."""
        ...

    def close(self) -> None: ...


class PooledRunner:
    """A bounded pool of calls: at most `in_flight` run at once and none wait in a queue, so
    the caller is held back (and memory stays flat) when the model is the bottleneck."""

    def __init__(self, in_flight: int):
        if in_flight < 1:
            raise FaceModelError(f"requests in flight must be at least 1, got {in_flight}")
        self.in_flight = in_flight
        self._pool = ThreadPoolExecutor(in_flight, thread_name_prefix="face-model")
        self._slots = threading.BoundedSemaphore(in_flight)

    def _run(self, array: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def submit(self, array: np.ndarray) -> Future[list[np.ndarray]]:
        self._slots.acquire()
        try:
            future = self._pool.submit(self._run, array)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_ORT_TYPES = {"float": "float32", "double": "float64"}


def _ort_dtype(type_name: str) -> np.dtype:
    """onnxruntime's 'tensor(float)' -> float32."""
    inner = type_name.removeprefix("tensor(").removesuffix(")")
    return np.dtype(_ORT_TYPES.get(inner, inner))


def _ort_shape(shape: list) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else -1 for d in shape)


class OnnxRunner(PooledRunner):
    """A local ONNX file on onnxruntime (CUDA when the installed build has it, else the CPU)."""

    def __init__(self, path: Path | str, in_flight: int = 1):
        path = Path(path)
        if not path.is_file():
            raise FaceModelError(f"ONNX model file {path} not found")
        try:
            import onnxruntime as ort
        except ImportError:
            raise FaceModelError(
                "the onnx backend needs onnxruntime: pip install onnxruntime"
            ) from None
        options = ort.SessionOptions()
        options.log_severity_level = 3  # exporters leave harmless initializer warnings
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                     if p in ort.get_available_providers()]
        try:
            self._session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise FaceModelError(f"onnxruntime cannot load {path}: {exc}") from None
        inputs = tuple(TensorSpec(i.name, _ort_shape(i.shape), _ort_dtype(i.type))
                       for i in self._session.get_inputs())
        outputs = tuple(TensorSpec(o.name, _ort_shape(o.shape), _ort_dtype(o.type))
                        for o in self._session.get_outputs())
        first = inputs[0].shape[0] if inputs and inputs[0].shape else -1
        self.spec = ModelSpec(path.stem, inputs, outputs, None if first == -1 else first)
        self.model_id = path.stem
        self._output_names = [o.name for o in outputs]
        super().__init__(in_flight)

    def _run(self, array: np.ndarray) -> list[np.ndarray]:
        try:
            return self._session.run(self._output_names, {self.spec.inputs[0].name: array})
        except Exception as exc:
            raise FaceModelError(f"onnxruntime failed on {self.model_id}: {exc}") from None
