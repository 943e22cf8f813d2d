"""`moviefaces triton-serve`: a local Triton server on 127.0.0.1 for ONNX face models.

For development and tests: the tritonserver of the nvidia-pytriton wheel (.venv-triton, made by
scripts/test-env/triton.sh) serves each file through a Python-backend wrapper on onnxruntime.
GPU servers use the official Triton image with deploy/triton/ instead.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("triton-serve",
                            help="serve SCRFD + recogniser ONNX files with a local Triton server")
    parser.add_argument("--detector", type=Path, required=True, help="SCRFD .onnx file")
    parser.add_argument("--recognizer", type=Path, required=True,
                        help="ArcFace-style recogniser .onnx file")
    parser.add_argument("--detector-name", default="scrfd", help="model name (default scrfd)")
    parser.add_argument("--recognizer-name", default="arcface",
                        help="model name (default arcface)")
    parser.add_argument("--grpc-port", type=int, default=8001, help="port on 127.0.0.1")
    parser.add_argument("--instances", type=int, default=1, help="model instances each")
    parser.add_argument("--triton-venv", type=Path, default=None,
                        help="venv with nvidia-pytriton (default .venv-triton)")
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    from ..faces.triton_server import ServedModel, TritonServer
    from ..faces.types import FaceModelError

    for path in (args.detector, args.recognizer):
        if not path.is_file():
            raise CliError(f"model file {path} not found")
    models = [ServedModel(args.detector_name, args.detector.resolve(), instances=args.instances),
              ServedModel(args.recognizer_name, args.recognizer.resolve(),
                          instances=args.instances)]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = TritonServer(models, venv=args.triton_venv, grpc_port=args.grpc_port)
        server.start()
    except FaceModelError as exc:
        raise CliError(str(exc)) from exc
    try:
        states = server.model_states()
        for model in models:
            print(f"  {model.name:<12} {states.get(model.name, '?'):<12} {model.onnx_path}")
        failed = [m.name for m in models if states.get(m.name) != "READY"]
        if failed:
            raise CliError(f"model(s) {', '.join(failed)} did not load; server log:\n"
                           f"{server.log_tail()}")
        print(f"Triton serving on {server.url} (gRPC); Ctrl-C stops it. Use it with:\n"
              f"  moviefaces run MOVIE --backend triton --triton-url {server.url} "
              f"--detector-model {args.detector_name} --recognizer-model {args.recognizer_name}",
              flush=True)
        while not stop.wait(1.0):
            if not server.running():
                raise CliError(f"tritonserver stopped:\n{server.log_tail()}")
    finally:
        server.close()
    return 0
