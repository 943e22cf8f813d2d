#!/usr/bin/env python3
"""Detection that does not redo work (moviefaces_dag/faces/tracking.py) against a full detection
on every sample: recall, precision and detector CPU per sample on movies with ground truth.

    python benchmarks/bench_detect_tracking.py [MOVIE.mp4 ...] --full-every 1,2,3,4
        [--margin 0.5] [--motion 0.04] [--analyzer max_side=1280 --analyzer upscale=1]

Frames are sampled at --fps and stored as JPEG as the frames stage does (detection reads JPEGs),
with the frames stage's cut distances. The first row of each movie is the single-frame result
(a full detection on every sample); the CPU is the detector's own (thread CPU time of its calls),
the full passes of every row measured once on the same frames, so the rows compare the work.
A true face counts as found when a detection matches it (IoU >= 0.3 or centre inside).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.evaluation.matching import match_boxes
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.tracking import Tracking, detect_samples
from moviefaces_dag.media.images import JPEG_QUALITY
from moviefaces_dag.media.shots import colour_signature, cut_distance
from moviefaces_dag.media.video import sample_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_yunet import SeedYuNet

TESTDATA = Path(os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata"))
MIN_PX = 40


class Measured:
    """The analyzer with its full passes taken from the single-frame run (same frames, same
    result) and every call's thread CPU time counted."""

    def __init__(self, analyzer, reference: list[tuple[list, float]], index: dict[int, int]):
        self.analyzer, self.reference, self.index = analyzer, reference, index
        self.crop_detection = analyzer.crop_detection
        self.cpu = self.crop_cpu = 0.0

    def detect(self, image):
        found, cpu = self.reference[self.index[id(image)]]
        self.cpu += cpu
        return found

    def detect_windows(self, image, windows):
        started = time.thread_time()
        found = self.analyzer.detect_windows(image, windows)
        self.crop_cpu += time.thread_time() - started
        self.cpu += time.thread_time() - started
        return found


def load(movie: Path, fps: float) -> tuple[list[float], list[bytes], list[float]]:
    times, jpegs, distances, previous = [], [], [], None
    for frame in sample_frames(movie, fps):
        ok, data = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        signature = colour_signature(frame.image)
        times.append(frame.time)
        jpegs.append(data.tobytes())
        distances.append(cut_distance(previous, signature))
        previous = signature
    return times, jpegs, distances


def score(truth: GroundTruth, times: list[float], found: list[list]) -> tuple[float, ...]:
    hit = total = hit_px = total_px = predicted = real = 0
    for t, detections in zip(times, found, strict=True):
        faces = truth.faces_at(t)
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (d.box for d in detections)]
        pairs = match_boxes(boxes, [f.box for f in faces])
        matched = {j for _, j in pairs}
        big = [j for j, f in enumerate(faces) if f.width_px >= MIN_PX]
        total, hit = total + len(faces), hit + len(matched)
        total_px, hit_px = total_px + len(big), hit_px + len(matched.intersection(big))
        predicted, real = predicted + len(boxes), real + len(pairs)
    return hit / max(total, 1), hit_px / max(total_px, 1), real / max(predicted, 1)


def seed_row(name: str, truth: GroundTruth, times: list[float], images: list[np.ndarray],
             settings: dict) -> float:
    """Score and print the seed detector's single-frame result; its ms of CPU per sample."""
    from moviefaces_dag.faces.opencv_backend import bundled_model
    from moviefaces_dag.faces.types import Detection
    from moviefaces_dag.faces.yunet import YUNET_FILE

    seed = SeedYuNet(str(bundled_model(YUNET_FILE)),
                     **{k: v for k, v in settings.items() if k in ("max_side", "upscale")})
    found, cpu = [], 0.0
    for image in images:
        started = time.thread_time()
        rows = seed.detect(image)
        cpu += time.thread_time() - started
        found.append([Detection(tuple(r[:4]), float(r[14]), r[4:14].reshape(5, 2))
                      for r in rows])
    recall, recall_px, precision = score(truth, times, found)
    per_sample = 1000 * cpu / len(images)
    print(f"{name:<8} {'seed (opencv, every sample)':>24} {recall:7.3f} {recall_px:7.3f} "
          f"{precision:9.3f} {per_sample:13.1f}", flush=True)
    return per_sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("movies", nargs="*", help="movies with a .json ground truth beside them")
    parser.add_argument("--full-every", default="1,2,3,4",
                        help="full pass at least every N samples (comma-separated)")
    parser.add_argument("--margin", default=str(Tracking().margin),
                        help="comma-separated values to compare")
    parser.add_argument("--motion", default=str(Tracking().motion),
                        help="comma-separated values to compare")
    parser.add_argument("--fps", type=float, default=1.0)
    parser.add_argument("--analyzer", action="append", default=[], metavar="NAME=VALUE",
                        help="FaceAnalyzerResource setting (repeatable), e.g. max_side=1280")
    parser.add_argument("--seed", action="store_true",
                        help="first a row for the seed's detector (OpenCV's FaceDetectorYN, a "
                             "full detection on every sample): the CPU every row is compared to")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    # OpenCV's own threads (resizing, blobs, its DNN) would work outside the thread whose CPU
    # time is counted: one thread, so every row's CPU is all of its work.
    cv2.setNumThreads(1)
    movies = [Path(m) for m in args.movies] or [TESTDATA / "movies" / f"hard_{s}.mp4"
                                                for s in "ab"]
    settings = {k: json.loads(v) for k, _, v in (a.partition("=") for a in args.analyzer)}
    variants = [Tracking(full_every=int(n), margin=float(m), motion=float(v))
                for n in args.full_every.split(",") for m in args.margin.split(",")
                for v in args.motion.split(",")]
    rows = []
    print(f"{'movie':<8} {'full every':>10} {'margin':>6} {'motion':>6} {'recall':>7} "
          f"{'>=40px':>7} {'precision':>9} {'ms/sample cpu':>13} {'in windows':>10} "
          f"{'vs single':>9} {'vs seed':>7}")
    with FaceAnalyzerResource(**settings).analyzer() as analyzer:
        for movie in movies:
            truth = GroundTruth.load(movie.with_suffix(".json"))
            times, jpegs, distances = load(movie, args.fps)
            images = [cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR) for j in jpegs]
            reference = []
            for image in images:
                started = time.thread_time()
                found = analyzer.detect(image)
                reference.append((found, time.thread_time() - started))
            single = sum(cpu for _, cpu in reference) / len(images)
            seed = seed_row(movie.stem, truth, times, images, settings) if args.seed else None
            index = {id(image): i for i, image in enumerate(images)}
            for tracking in variants:
                measured = Measured(analyzer, reference, index)
                found = list(detect_samples(measured, range(len(images)), distances,
                                            images.__getitem__, lambda _i, _im, d: d,
                                            tracking))
                recall, recall_px, precision = score(truth, times, found)
                per_sample = 1000 * measured.cpu / len(images)
                rows.append({"movie": movie.stem, **tracking.settings(), "recall": recall,
                             "recall_min_px": recall_px, "precision": precision,
                             "ms_per_sample": per_sample, "single_ms": 1000 * single,
                             "seed_ms": seed})
                print(f"{movie.stem:<8} {tracking.full_every:>10} {tracking.margin:>6g} "
                      f"{tracking.motion:>6g} {recall:7.3f} {recall_px:7.3f} {precision:9.3f} "
                      f"{per_sample:13.1f} {1000 * measured.crop_cpu / len(images):10.1f} "
                      f"{per_sample / (1000 * single):9.2f} "
                      f"{per_sample / seed if seed else float('nan'):7.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
