#!/usr/bin/env python3
"""Detection recall and cost against the frame size detection runs at (FaceAnalyzerResource's
max_side and upscale), on movies with ground truth (default: the hard movies in
../shared/testdata).

    python benchmarks/bench_detect_scale.py --sides 960,1280,1920 --upscales 1,1.5

Frames are sampled at --fps as the pipeline does; a true face counts as found when a detection
matches it (moviefaces_dag.evaluation.matching: IoU >= 0.3 or centre inside).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.evaluation.matching import match_boxes
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.media.video import sample_frames

TESTDATA = Path(os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata"))
SMALL_PX = 40  # faces narrower than this (movie pixels) are counted separately


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("movies", nargs="*", help="movies with a .json ground truth beside them")
    parser.add_argument("--sides", default="1280,1920", help="max_side values to compare")
    parser.add_argument("--upscales", default="1,1.5",
                        help="upscale values to compare (1: a single pass)")
    parser.add_argument("--fps", type=float, default=1.0)
    args = parser.parse_args()
    movies = [Path(m) for m in args.movies] or [TESTDATA / "movies" / f"hard_{s}.mp4"
                                                for s in "ab"]
    configs = [(int(side), float(up)) for side in args.sides.split(",")
               for up in args.upscales.split(",")]
    print(f"{'movie':<12} {'max_side':>8} {'upscale':>7} {'recall':>7} {'<40px':>7} "
          f"{'precision':>9} {'ms/frame cpu':>12}")
    for movie in movies:
        truth = GroundTruth.load(movie.with_suffix(".json"))
        frames = [(f.time, f.image) for f in sample_frames(movie, args.fps)]
        for side, upscale in configs:
            print(evaluate(movie.stem, truth, frames, side, upscale), flush=True)
    return 0


def evaluate(name: str, truth: GroundTruth, frames: list, side: int, upscale: float) -> str:
    analyzer = OpenCVFaceAnalyzer(max_side=side, upscale=upscale)
    found = total = small_found = small_total = predicted = 0
    cpu = 0.0
    for t, image in frames:
        started = time.process_time()
        detections = analyzer.detect(image)
        cpu += time.process_time() - started
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (d.box for d in detections)]
        faces = truth.faces_at(t)
        matched = {j for _, j in match_boxes(boxes, [f.box for f in faces])}
        predicted += len(boxes)
        total += len(faces)
        found += len(matched)
        small = [j for j, f in enumerate(faces) if f.width_px < SMALL_PX]
        small_total += len(small)
        small_found += len(matched.intersection(small))
    return (f"{name:<12} {side:>8} {upscale:>7g} {found / max(total, 1):7.3f} "
            f"{small_found / max(small_total, 1):7.3f} {found / max(predicted, 1):9.3f} "
            f"{1000 * cpu / len(frames):12.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
