#!/usr/bin/env python3
"""Face backends on the same frames, in one run: frames/s and faces/s for

1. opencv:      the embedded YuNet + SFace (one frame at a time, as the pipeline calls it);
2. onnx:        SCRFD + a recogniser on local onnxruntime;
3. triton x1:   the same models on a Triton server, 1 request in flight per model;
4. triton xN:   the same with N requests in flight (frames prepared and sent while others run).

Every backend detects on every frame, aligns the faces it found and embeds them in batches.
Unless --triton-url names a running server, a local one is started with `TritonServer` (the
nvidia-pytriton build: Python backend on onnxruntime, CPU), so on one small machine the server
and the client share the cores; on a GPU server the in-flight gain is larger.

    .venv/bin/python benchmarks/bench_backends.py                       # cast_a, 30 s at 2 fps
    .venv/bin/python benchmarks/bench_backends.py --in-flight 8 --instances 2
    .venv/bin/python benchmarks/bench_backends.py --triton-url gpu-host:8001 \
        --detector-model scrfd --recognizer-model arcface --profile arcface
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.faces.recognizer import PROFILES
from moviefaces_dag.faces.scrfd_arcface import ModelSettings, onnx_analyzer, triton_analyzer
from moviefaces_dag.faces.triton_server import ServedModel, TritonServer
from moviefaces_dag.media.streaming import bounded_map
from moviefaces_dag.media.video import sample_frames

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RECOGNIZER_FILES = {"mobilefacenet": "mobilefacenet_128.onnx", "sface": "sface_int8bq_128.onnx"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movie", type=Path,
                        default=SHARED / "testdata" / "movies" / "cast_a.mp4")
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--recognizer", choices=sorted(RECOGNIZER_FILES),
                        default="mobilefacenet", help="local test recogniser (onnx and triton)")
    parser.add_argument("--in-flight", type=int, default=4, help="N for 'triton xN'")
    parser.add_argument("--instances", type=int, default=1,
                        help="model instances on the local server")
    parser.add_argument("--triton-url", default=None, help="use this server, start none")
    parser.add_argument("--detector-model", default="scrfd")
    parser.add_argument("--recognizer-model", default=None,
                        help="recogniser name on the server (default: --recognizer)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help="recogniser preprocessing (default: that of --recognizer)")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many passes")
    return parser.parse_args()


def run_backend(analyzer, frames: list[np.ndarray], batch: int = 32) -> tuple[float, int]:
    """Seconds to detect, align and embed every face of every frame; the face count."""
    started = time.perf_counter()
    # Detection as the pipeline runs it: analyzer.concurrency calls in flight from threads.
    found = bounded_map(analyzer.detect, frames, workers=analyzer.concurrency)
    aligned = [align_face(frame, det.landmarks)
               for frame, dets in zip(frames, found, strict=True) for det in dets]
    for start in range(0, len(aligned), batch):
        analyzer.embed(aligned[start:start + batch])
    return time.perf_counter() - started, len(aligned)


def measure(name: str, analyzer, frames: list[np.ndarray], repeat: int) -> dict:
    run_backend(analyzer, frames[:2])  # warm-up: sessions, connections, server stubs
    seconds, faces = min(run_backend(analyzer, frames) for _ in range(repeat))
    row = {"backend": name, "frames": len(frames), "faces": faces, "seconds": seconds,
           "frames_per_s": len(frames) / seconds, "faces_per_s": faces / seconds}
    print(f"{name:<12} {len(frames):>6} {faces:>6} {seconds:>8.2f} "
          f"{row['frames_per_s']:>9.1f} {row['faces_per_s']:>8.1f}", flush=True)
    return row


def main() -> int:
    args = parse_args()
    frames = [f.image for f in sample_frames(args.movie, args.fps, args.duration)]
    detector_file = args.models / "scrfd_500m_kps.onnx"
    recognizer_file = args.models / RECOGNIZER_FILES[args.recognizer]
    profile = PROFILES[args.profile or args.recognizer]
    recognizer_model = args.recognizer_model or args.recognizer
    print(f"movie {args.movie.name}: {len(frames)} frames ({args.fps:g} fps, "
          f"{args.duration:g} s); recogniser {args.recognizer}; N = {args.in_flight}")
    print(f"{'backend':<12} {'frames':>6} {'faces':>6} {'seconds':>8} {'frames/s':>9} "
          f"{'faces/s':>8}")
    with ExitStack() as stack:
        url = args.triton_url
        if url is None:
            server = TritonServer([
                ServedModel(args.detector_model, detector_file, instances=args.instances),
                ServedModel(recognizer_model, recognizer_file, instances=args.instances),
            ])
            stack.enter_context(server)
            url = server.url
        backends = [
            ("opencv", lambda: OpenCVFaceAnalyzer()),
            ("onnx", lambda: onnx_analyzer(detector_file, recognizer_file,
                                           ModelSettings(preprocessing=profile, in_flight=1))),
        ] + [
            (f"triton x{n}", lambda n=n: triton_analyzer(
                url, args.detector_model, recognizer_model,
                ModelSettings(preprocessing=profile, in_flight=n)))
            for n in (1, args.in_flight)
        ]
        for name, make in backends:
            analyzer = make()
            try:
                measure(name, analyzer, frames, args.repeat)
            finally:
                analyzer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
