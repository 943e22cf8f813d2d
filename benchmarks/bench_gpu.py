#!/usr/bin/env python3
"""The `onnx` backend on a GPU: SCRFD + ArcFace on onnxruntime's CUDA provider, frames per second
and faces per second, in one short run (about a minute after the models load).

    python benchmarks/bench_gpu.py [--models-dir ../shared/models] [--movie hard_b.mp4]
                                   [--seconds 20] [--json out.json]

Needs onnxruntime-gpu (the CUDA provider) in the venv; it stops with one line if the provider is
missing rather than measure the CPU. Frames are decoded and letterboxed before timing; the
detector is timed on those frames one call at a time and with `--in-flight` calls at once (the
pipeline keeps `requests_in_flight` in flight), the recogniser on aligned faces of those frames
in batches of 1, 32 and 128. The same numbers on the CPU provider come first when --cpu is given,
for the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.recognizer import PROFILES, Recognizer
from moviefaces_dag.faces.runners import OnnxRunner
from moviefaces_dag.faces.scrfd import ScrfdDetector
from moviefaces_dag.media.video import sample_frames

SHARED = REPO.parent / "shared"


def runner(path: Path, provider: str, in_flight: int) -> OnnxRunner:
    """An OnnxRunner pinned to one execution provider, checked to be in use."""
    import onnxruntime as ort

    made = OnnxRunner(path, in_flight)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    made._session = ort.InferenceSession(str(path), options, providers=[provider])
    if made._session.get_providers()[0] != provider:
        sys.exit(f"{provider} is not in use for {path.name}: {made._session.get_providers()}")
    return made


def rate(fn, items: list, seconds: float, workers: int = 1) -> float:
    """Items per second over at least `seconds` (after a warm-up round), `workers` at once."""
    for item in items[:workers * 2]:
        fn(item)
    done, started = 0, time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        while time.perf_counter() - started < seconds:
            done += sum(1 for _ in pool.map(fn, items))
    return done / (time.perf_counter() - started)


def measure(provider: str, args: argparse.Namespace, frames: list[np.ndarray]) -> dict:
    detector_file = args.models_dir / args.detector
    recognizer_file = args.models_dir / args.recognizer
    scrfd = ScrfdDetector(runner(detector_file, provider, args.in_flight))
    recognizer = Recognizer(runner(recognizer_file, provider, args.in_flight),
                            PROFILES["arcface"], batch_size=128)
    found = [scrfd.detect(frame) for frame in frames]
    faces = [align_face(frame, det.landmarks) for frame, dets in zip(frames, found, strict=True)
             for det in dets]
    if not faces:
        sys.exit("no face found on the frames: pick another --movie")
    result = {"provider": provider, "frames": len(frames), "faces_found": len(faces),
              "frames_per_s": rate(scrfd.detect, frames, args.seconds),
              f"frames_per_s_{args.in_flight}_in_flight":
                  rate(scrfd.detect, frames, args.seconds, args.in_flight)}
    for batch in (1, 32, 128):
        chunks = [(faces * (1 + batch // len(faces)))[:batch]] * 4
        result[f"faces_per_s_batch_{batch}"] = batch * rate(recognizer.embed, chunks,
                                                            args.seconds / 3)
    scrfd.runner.close()
    recognizer.runner.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--detector", default="scrfd_2.5g_kps.onnx")
    parser.add_argument("--recognizer", default="w600k_mbf_512.onnx")
    parser.add_argument("--movie", type=Path,
                        default=SHARED / "testdata" / "movies" / "hard_b.mp4")
    parser.add_argument("--frames", type=int, default=60, help="1080p frames decoded (1 fps)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per measurement")
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--cpu", action="store_true", help="also measure the CPU provider")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    import onnxruntime as ort

    print(f"onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        sys.exit("no CUDAExecutionProvider: install onnxruntime-gpu in this venv")
    frames = [f.image for f in islice(sample_frames(args.movie, 1.0), args.frames)]
    results = []
    for provider in (["CPUExecutionProvider"] if args.cpu else []) + ["CUDAExecutionProvider"]:
        results.append(measure(provider, args, frames))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
