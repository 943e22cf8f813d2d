"""A real Triton Inference Server on 127.0.0.1 serving ONNX files, for development and tests.

The server comes from the `nvidia-pytriton` wheel (tritonserver with the Python backend only),
installed in its own venv because it pins numpy<2 (scripts/test-env/triton.sh makes
`.venv-triton`). Each ONNX file is wrapped in a Python-backend model (triton_python_model.py)
that runs it on onnxruntime. GPU deployments use the official image instead: deploy/triton/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .runners import OnnxRunner, TensorSpec
from .types import FaceModelError

TRITON_VENV_ENV = "MOVIEFACES_TRITON_VENV"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAX_BATCH = 32
_TRITON_TYPES = {"float32": "TYPE_FP32", "float16": "TYPE_FP16", "float64": "TYPE_FP64",
                 "int64": "TYPE_INT64", "int32": "TYPE_INT32", "int8": "TYPE_INT8",
                 "uint8": "TYPE_UINT8", "bool": "TYPE_BOOL"}


@dataclass(frozen=True)
class ServedModel:
    name: str
    onnx_path: Path
    max_batch_size: int | None = None  # None: DEFAULT_MAX_BATCH if the file's batch is dynamic
    instances: int = 1


def find_triton_venv(explicit: Path | None = None) -> Path:
    """The venv holding nvidia-pytriton: given, $MOVIEFACES_TRITON_VENV, or ./.venv-triton."""
    candidates = [explicit] if explicit else [
        Path(p) for p in (os.environ.get(TRITON_VENV_ENV),) if p
    ] + [REPO_ROOT / ".venv-triton", Path.cwd() / ".venv-triton", Path(sys.prefix)]
    for venv in candidates:
        if venv and _server_binary(venv):
            return venv
    raise FaceModelError(
        f"no tritonserver found in {', '.join(str(c) for c in candidates if c)}: run "
        f"scripts/test-env/triton.sh (it makes .venv-triton) or set ${TRITON_VENV_ENV}"
    )


def _server_binary(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python3*/site-packages/pytriton/tritonserver/bin/tritonserver"))
    return found[0] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def model_config(model: ServedModel) -> str:
    """config.pbtxt for a Python-backend wrapper, tensors read from the ONNX file itself."""
    runner = OnnxRunner(model.onnx_path)
    try:
        spec = runner.spec
    finally:
        runner.close()
    max_batch = model.max_batch_size
    if max_batch is None:
        max_batch = DEFAULT_MAX_BATCH if spec.max_batch is None else 0

    def dims(tensor: TensorSpec, open_all_but_last: bool) -> str:
        shape = list(tensor.shape[1:] if max_batch else tensor.shape)
        if open_all_but_last:  # output rows depend on the input size (SCRFD)
            shape = [-1] * (len(shape) - 1) + shape[-1:]
        return ", ".join(str(d) for d in shape)

    def block(tensor: TensorSpec, is_output: bool) -> str:
        kind = _TRITON_TYPES.get(tensor.dtype.name)
        if kind is None:
            raise FaceModelError(f"{model.onnx_path}: tensor {tensor.name!r} has unsupported "
                                 f"type {tensor.dtype}")
        return (f'  {{ name: {json.dumps(tensor.name)} data_type: {kind} '
                f'dims: [ {dims(tensor, is_output)} ] }}')

    lines = [
        f"name: {json.dumps(model.name)}",
        'backend: "python"',
        f"max_batch_size: {max_batch}",
        "input [\n" + ",\n".join(block(t, False) for t in spec.inputs) + "\n]",
        "output [\n" + ",\n".join(block(t, True) for t in spec.outputs) + "\n]",
        f"instance_group [ {{ kind: KIND_CPU count: {model.instances} }} ]",
        _onnx_path_parameter(model),
    ]
    if max_batch:
        lines.append("dynamic_batching { }")
    return "\n".join(lines) + "\n"


def _onnx_path_parameter(model: ServedModel) -> str:
    path = json.dumps(str(model.onnx_path.resolve()))
    return f'parameters: {{ key: "onnx_path" value: {{ string_value: {path} }} }}'


class TritonServer:
    """Start with start() or `with`; stop() ends the whole process group (stubs included)."""

    def __init__(self, models: list[ServedModel], venv: Path | None = None,
                 workdir: Path | None = None, grpc_port: int | None = None):
        self.models = models
        self.venv = find_triton_venv(venv)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="moviefaces-triton-"))
        self.grpc_port = grpc_port or free_port()
        self.log_path = self.workdir / "tritonserver.log"
        self._process: subprocess.Popen | None = None
        self._write_repository()

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def _write_repository(self) -> None:
        repo = self.workdir / "models"
        shutil.rmtree(repo, ignore_errors=True)
        wrapper = Path(__file__).with_name("triton_python_model.py")
        for model in self.models:
            version = repo / model.name / "1"
            version.mkdir(parents=True)
            shutil.copy(wrapper, version / "model.py")
            try:
                config = model_config(model)
            except FaceModelError:
                # Served anyway: the wrapper fails to open the file, so Triton lists the model
                # as UNAVAILABLE with onnxruntime's reason instead of refusing to start.
                config = (f"name: {json.dumps(model.name)}\nbackend: \"python\"\n"
                          f"{_onnx_path_parameter(model)}\n")
            (repo / model.name / "config.pbtxt").write_text(config)

    def _interpreter(self) -> tuple[str, str]:
        """(python version X.Y, libpython folder) of the venv the stub will embed."""
        code = "import sys, sysconfig; print(f'{sys.version_info[0]}.{sys.version_info[1]}');" \
               "print(sysconfig.get_config_var('LIBDIR'))"
        out = subprocess.run([str(self.venv / "bin" / "python"), "-c", code], check=True,
                             capture_output=True, text=True).stdout.split()
        return out[0], out[1]

    def _backends(self, python_version: str) -> Path:
        """Python backend folder with the stub built for the venv's Python version."""
        root = _server_binary(self.venv).parents[1]
        target = self.workdir / "backends" / "python"
        target.mkdir(parents=True, exist_ok=True)
        source = root / "backends" / "python"
        for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
            shutil.copy(source / name, target / name)
        stub = root / "python_backend_stubs" / python_version / "triton_python_backend_stub"
        if not stub.is_file():
            raise FaceModelError(f"nvidia-pytriton has no Python backend stub for Python "
                                 f"{python_version} ({stub})")
        shutil.copy(stub, target / "triton_python_backend_stub")
        return target.parent

    def start(self, timeout_s: float = 180.0) -> TritonServer:
        python_version, libdir = self._interpreter()
        backends = self._backends(python_version)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        # The stub embeds libpython and finds its packages through the `python3` first on PATH.
        # The copied stub no longer finds the wheel's bundled libraries through its RPATH.
        bundled = _server_binary(self.venv).parents[3] / "nvidia_pytriton.libs"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (libdir, str(bundled), os.environ.get("LD_LIBRARY_PATH")) if p)
        env["PATH"] = os.pathsep.join((str(self.venv / "bin"), os.environ.get("PATH", "")))
        env["VIRTUAL_ENV"] = str(self.venv)
        command = [
            str(_server_binary(self.venv)),
            f"--model-repository={self.workdir / 'models'}",
            f"--backend-directory={backends}",
            "--grpc-address=127.0.0.1", f"--grpc-port={self.grpc_port}",
            "--allow-http=false", "--allow-metrics=false", "--allow-gpu-metrics=false",
            "--exit-on-error=false", "--strict-readiness=false", "--log-verbose=0",
            "--backend-config=python,shm-default-byte-size=16777216",
            f"--backend-config=python,shm-region-prefix-name=moviefaces_{os.getpid()}_"
            f"{self.grpc_port}_",
        ]
        log = self.log_path.open("ab")
        try:
            # Its own process group: stop() then ends the server and its model stubs together.
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=env,
                                             start_new_session=True)
        finally:
            log.close()
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        import tritonclient.grpc as grpcclient
        from tritonclient.utils import InferenceServerException

        deadline = time.monotonic() + timeout_s
        with grpcclient.InferenceServerClient(self.url) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise FaceModelError(f"tritonserver exited with status "
                                         f"{self._process.returncode}:\n{self.log_tail()}")
                if "error while loading shared libraries" in self.log_tail():
                    raise FaceModelError(f"tritonserver's Python backend cannot start:\n"
                                         f"{self.log_tail()}")
                try:
                    if client.is_server_live() and self._all_loaded(client):
                        return
                except InferenceServerException:
                    pass  # not listening yet
                time.sleep(0.2)
        raise FaceModelError(f"tritonserver on {self.url} not ready after {timeout_s:.0f} s:\n"
                             f"{self.log_tail()}")

    def _all_loaded(self, client) -> bool:
        index = client.get_model_repository_index(as_json=True).get("models", [])
        states = {m["name"]: m.get("state", "") for m in index}
        return all(states.get(m.name) in ("READY", "UNAVAILABLE") for m in self.models)

    def model_states(self) -> dict[str, str]:
        """Each served model's state as the server reports it (READY, UNAVAILABLE, ...)."""
        import tritonclient.grpc as grpcclient

        with grpcclient.InferenceServerClient(self.url) as client:
            index = client.get_model_repository_index(as_json=True).get("models", [])
        return {m["name"]: m.get("state", "") for m in index}

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)

    def kill(self) -> None:
        """End the server at once, as a crash would (SIGKILL to its process group)."""
        self._signal(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()
            self._process = None

    def stop(self, grace_s: float = 15.0) -> None:
        if self._process is None:
            return
        self._signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(grace_s)
        # The stubs share the group and may outlive the server by a moment: end them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
