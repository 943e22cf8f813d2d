#!/usr/bin/env python3
"""Which CPU runtime runs the embedded models fastest: OpenCV's DNN on the int8 files as shipped,
or onnxruntime on the same weights dequantized at load (moviefaces_dag/faces/dequantize.py).

    python benchmarks/bench_runtimes.py [--frame IMAGE] [--repeat 5]

YuNet at the frame sizes the detector uses (ms per call, wall and CPU, 1 and 2 threads per call,
and two 1-thread calls at once from two threads: what the pipeline does), then SFace per face at
batch sizes 1, 8 and 32. Both runtimes see the same images in the same run, so compare the
ratios; the detections of both are compared too (they must agree).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.faces.dequantize import cpu_session, float_model
from moviefaces_dag.faces.opencv_backend import bundled_model
from moviefaces_dag.faces.sface import SFACE_FILE
from moviefaces_dag.faces.yunet import YUNET_FILE, YuNetDetector
from moviefaces_dag.media.video import sample_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_yunet import SeedYuNet

TESTDATA = REPO.parent / "shared" / "testdata"
SIZES = ((1280, 720), (1920, 1080), (2880, 1620))


def timed(fn, repeat: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per call, after one warm-up call."""
    fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    return (1000 * (time.perf_counter() - wall) / repeat,
            1000 * (time.process_time() - cpu) / repeat)


def in_pairs(fn, repeat: int) -> tuple[float, float]:
    """Two calls at once from two threads: (wall ms, CPU ms) per call."""
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: fn(), range(2)))
        wall, cpu = time.perf_counter(), time.process_time()
        list(pool.map(lambda _: fn(), range(2 * repeat)))
    return (1000 * (time.perf_counter() - wall) / (2 * repeat),
            1000 * (time.process_time() - cpu) / (2 * repeat))


def yunet(frame: np.ndarray, repeat: int) -> None:
    print(f"{'YuNet input':<14} {'runtime':<12} {'1 thread':>16} {'2 threads':>16} "
          f"{'2 calls at once':>16}   (ms per call: wall / CPU)")
    for width, height in SIZES:
        yunet_size(cv2.resize(frame, (width, height)), repeat)


def yunet_size(image: np.ndarray, repeat: int) -> None:
    """One pass at the image's size on both runtimes; one call at a time with 1 and 2 threads,
    then two 1-thread calls at once."""
    path = str(bundled_model(YUNET_FILE))
    seed = SeedYuNet(path, min_face_px=0.0)
    # one pass at the image's own size, as the OpenCV call below
    ours = {threads: YuNetDetector(path, max_side=0, upscale=1.0, min_face_px=0.0,
                                   threads=threads)
            for threads in (1, 2)}
    results: dict[str, list[tuple[float, float]]] = {"opencv dnn": [], "onnxruntime": []}
    for threads in (1, 2):
        cv2.setNumThreads(threads)
        results["opencv dnn"].append(timed(lambda: seed.detect_at(image, 1.0), repeat))
        results["onnxruntime"].append(timed(lambda t=threads: ours[t].detect(image),
                                            repeat))
    cv2.setNumThreads(1)
    results["opencv dnn"].append(in_pairs(lambda: seed.detect_at(image, 1.0), repeat))
    results["onnxruntime"].append(in_pairs(lambda: ours[1].detect(image), repeat))
    cv2.setNumThreads(-1)
    size = f"{image.shape[1]}x{image.shape[0]}"
    for name, cells in results.items():
        print(f"{size:<14} {name:<12} " + " ".join(f"{w:7.1f} / {c:6.1f}" for w, c in cells))
    print(f"{'':<14} detections: opencv {len(seed.detect_at(image, 1.0))}, "
          f"onnxruntime {len(ours[1].detect(image))}")


def sface(frame: np.ndarray, repeat: int) -> None:
    path = str(bundled_model(SFACE_FILE))
    faces = [cv2.resize(frame[i * 20:i * 20 + 300, i * 30:i * 30 + 300], (112, 112))
             for i in range(32)]
    net = cv2.dnn.readNetFromONNX(path)
    session = cpu_session(float_model(path, {0: "batch"}))
    print(f"\n{'SFace batch':<14} {'opencv dnn':>16} {'onnxruntime':>16}   "
          "(ms per face: wall / CPU; 2 threads per call)")
    cv2.setNumThreads(2)
    session2 = cpu_session(float_model(path, {0: "batch"}), threads=2)
    for batch in (1, 8, 32):
        blob = cv2.dnn.blobFromImages(faces[:batch], 1.0, (112, 112), (0, 0, 0), swapRB=True)

        def opencv(blob: np.ndarray = blob) -> np.ndarray:
            net.setInput(blob, "data")
            return net.forward()

        cv_wall, cv_cpu = timed(opencv, repeat)
        ort_wall, ort_cpu = timed(lambda blob=blob: session2.run(None, {"data": blob}), repeat)
        print(f"{batch:<14} {cv_wall / batch:7.1f} / {cv_cpu / batch:6.1f} "
              f"{ort_wall / batch:7.1f} / {ort_cpu / batch:6.1f}")
        a = np.asarray(opencv()).reshape(batch, -1)
        b = session.run(None, {"data": blob})[0].reshape(batch, -1)
        cosine = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        print(f"{'':<14} embeddings agree: cosine >= {cosine.min():.5f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frame", help="an image to run on (default: a hard_b frame)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    if args.frame:
        frame = cv2.imread(args.frame)
    else:
        movie = TESTDATA / "movies" / "hard_b.mp4"
        frame = next(f.image for f in sample_frames(movie, 1.0) if f.time >= 30)
    yunet(frame, args.repeat)
    sface(frame, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
