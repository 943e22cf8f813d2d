"""Command-line options that choose the face models (backend, server, files, preprocessing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.settings import PRESETS, resolve
from ..faces import buffalo
from ..faces.recognizer import PROFILES
from .common import CliError, add_setting, setting


def add_face_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("face models")
    for key in ("face_analyzer.backend", "face_analyzer.models", "face_analyzer.detector",
                "face_analyzer.triton_url", "face_analyzer.onnx_detector_path",
                "face_analyzer.onnx_recognizer_path", "face_analyzer.preset"):
        add_setting(group, key)
    group.add_argument("--detector-model", default=None,
                       help="detector model name on the Triton server (default scrfd)")
    group.add_argument("--recognizer-model", default=None,
                       help="recogniser model name on the Triton server (default arcface)")
    group.add_argument("--recognizer-profile", choices=sorted(PROFILES), default=None,
                       help="recogniser input colour order and scaling (default arcface: RGB, "
                            "(x-127.5)/127.5)")
    group.add_argument("--requests-in-flight", type=int, default=None,
                       help="concurrent requests per model (default 4)")
    group.add_argument("--retry-timeout", type=float, default=None,
                       help="seconds to keep retrying an unreachable Triton server (default 30)")


def face_analyzer_config(args: argparse.Namespace) -> dict[str, Any]:
    """FaceAnalyzerResource fields for the options given; the resource's defaults otherwise."""
    config: dict[str, Any] = {
        key: setting(args, f"face_analyzer.{key}")
        for key in ("backend", "models", "detector", "triton_url")
    }
    # The preset sets the defaults of the detection settings it names (settings.PRESETS); the
    # environment and the settings file still override it.
    preset = setting(args, "face_analyzer.preset")
    for key in sorted({k for values in PRESETS.values() for k in values}):
        config[key.split(".", 1)[1]] = resolve(key, preset=preset)[0]
    if config["models"] == "buffalo":
        if config["backend"] not in ("opencv", "onnx"):
            raise CliError(f"--models buffalo runs on onnxruntime, not --backend "
                           f"{config['backend']}")
        # Said on every run that uses them, so the first use cannot pass unnoticed.
        print(f"note: {buffalo.LICENCE_NOTE}", file=sys.stderr)
        config["backend"] = "onnx"
    named = {"triton_detector": args.detector_model,
             "triton_recognizer": args.recognizer_model,
             "requests_in_flight": args.requests_in_flight,
             "retry_timeout_s": args.retry_timeout}
    config.update({k: v for k, v in named.items() if v is not None})
    for field in ("onnx_detector_path", "onnx_recognizer_path"):
        path = setting(args, f"face_analyzer.{field}")
        config[field] = str(Path(path).resolve()) if path else ""
    if args.recognizer_profile:
        profile = PROFILES[args.recognizer_profile]
        config.update(recognizer_color=profile.color, recognizer_mean=profile.mean,
                      recognizer_std=profile.std)
    return config
