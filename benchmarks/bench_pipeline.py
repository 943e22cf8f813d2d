#!/usr/bin/env python3
"""How close does moviefaces get to the decode limit? One run, one movie, a measurement per part
(--parts; by default floor, seed, naive and pipeline).

1. floor:    only sampling frames at --fps with the best decoding strategy (moviefaces' own);
2. seed:     the seed design: cv2.VideoCapture.read() on every frame, every Nth frame handed
             synchronously to detection (YuNet on OpenCV's DNN, as the seed ran it), then
             embedding one face at a time (same face models and settings as the pipeline part);
   naive:    the seed's loop on moviefaces' own face analyzer (its runtime, no tracking);
3. pipeline: moviefaces end to end through the stage functions with a real movie store and the
             embedded backend: movie -> frames -> detections -> embeddings -> clusters -> report.
   second:   the pipeline with the second recogniser (dlib's descriptor) on; its wall time over
             the pipeline's is the opt-in's cost.
   overlap:  would running decoding and detection at once pay? The frames and detections stages
             one after the other, then both at once (one store's frames while another's faces
             are detected, in one process): the best a streaming frames+detections stage can do.

Each part runs in its own subprocess, so its peak RSS is its own (ru_maxrss of that child).
Speeds are movie-seconds processed per wall-second; the machine may be shared, so compare the
ratios printed at the end, which come from the same run on the same file.

The movie is generated with ../shared/tools/make_movie.py (H.264 through ffmpeg) and cached:
    python benchmarks/bench_pipeline.py                 # 10 min, 1920x1080, 24 fps
    python benchmarks/bench_pipeline.py --minutes 2     # a quicker look
    python benchmarks/bench_pipeline.py --movie X.mp4   # any movie
    python benchmarks/bench_pipeline.py --minutes 2 --parts overlap,pipeline
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PARTS = ("floor", "grab", "seed", "naive", "pipeline", "overlap", "second")
DEFAULT_PARTS = ("floor", "seed", "naive", "pipeline")


def main() -> int:
    args = parse_args()
    if args.part:
        result = run_part(args.part, Path(args.movie), args.fps, dict(args.analyzer))
        print(json.dumps(result))
        return 0
    movie = Path(args.movie) if args.movie else make_movie(args)
    if not movie.is_file():
        sys.exit(f"{movie}: no such movie")
    print(f"movie: {movie}  sampling: {args.fps:g} fps  parts: {', '.join(args.parts)}",
          flush=True)
    results: dict[str, dict[str, Any]] = {}
    # Rounds interleave the parts, so a busy spell on a shared machine hits all of them alike;
    # each part keeps its fastest run.
    for round_ in range(1, args.repeat + 1):
        for part in args.parts:
            result = measure(part, movie, args.fps, args.analyzer)
            print_part(part if args.repeat == 1 else f"{part} #{round_}", result)
            if part not in results or result["wall_s"] < results[part]["wall_s"]:
                results[part] = result
    if args.repeat > 1:
        print("fastest of each part:")
        for part, result in results.items():
            print_part(part, result)
    print_ratios(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the movie made")
    parser.add_argument("--size", default="1920x1080", help="frame size of the movie made")
    parser.add_argument("--seed", type=int, default=7, help="make_movie.py seed")
    parser.add_argument("--crf", type=int, default=23, help="H.264 quality of the movie made")
    parser.add_argument("--movie", help="benchmark this movie instead of making one")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(),
                                                            "moviefaces-bench"),
                        help="where made movies are kept between runs")
    parser.add_argument("--fps", type=float, default=1.0, help="frames sampled per movie second")
    parser.add_argument("--parts", type=lambda s: s.split(","), default=list(DEFAULT_PARTS),
                        help=f"comma-separated subset of {','.join(PARTS)} "
                             "(grab: the decode floor of cv2 grab() on every frame)")
    parser.add_argument("--analyzer", action="append", default=[], type=setting,
                        metavar="NAME=VALUE",
                        help="FaceAnalyzerResource setting for the pipeline part (repeatable), "
                             "e.g. --analyzer max_side=1280")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds over the parts; each part's fastest run counts")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    return args


def setting(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, json.loads(value) if value[:1].isdigit() or value[:1] in "-[{" else value


def make_movie(args: argparse.Namespace) -> Path:
    tool = SHARED / "tools" / "make_movie.py"
    corpus = Path(os.environ.get("MOVIEFACES_TESTDATA", SHARED / "testdata"))
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    name = f"bench_{args.minutes:g}min_{args.size}_seed{args.seed}_crf{args.crf}"
    movie = cache / f"{name}.mp4"
    if movie.is_file():
        return movie
    if not tool.is_file():
        sys.exit(f"{tool} not found: run from a checkout with ../shared beside it, or pass --movie")
    print(f"making {movie} ({args.minutes:g} min) with {tool.name} ...", flush=True)
    started = time.monotonic()
    partial = cache / f"{name}.partial.mp4"
    subprocess.run(
        [sys.executable, str(tool), "--corpus", str(corpus), "--out", str(partial),
         "--gt", str(cache / f"{name}.json"), "--duration", str(args.minutes * 60),
         "--size", args.size, "--fps", "24", "--seed", str(args.seed),
         "--h264-crf", str(args.crf)],
        check=True,
    )
    partial.rename(movie)
    print(f"made in {time.monotonic() - started:.0f} s", flush=True)
    return movie


# the parent: one child process per part --------------------------------------------------------
def measure(part: str, movie: Path, fps: float, analyzer: list[tuple[str, Any]]
            ) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--part", part,
               "--movie", str(movie), "--fps", str(fps)]
    command += [f"--analyzer={name}={json.dumps(value) if not isinstance(value, str) else value}"
                for name, value in analyzer]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=REPO)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"part {part} failed with exit code {child.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["speed"] = result["movie_seconds"] / result["wall_s"]
    return result


def print_part(part: str, r: dict[str, Any]) -> None:
    print(f"{part:>12}: {r['speed']:6.2f} movie-s/s  {r['wall_s']:7.1f} s wall  "
          f"{r['cpu_s']:7.1f} s cpu  peak RSS {r['peak_rss_mb']:6.0f} MB  {r['detail']}",
          flush=True)
    for stage, (wall, cpu) in r.get("stages", {}).items():
        print(f"{'':>14}{stage:<12} {wall:7.1f} s wall {100 * wall / r['wall_s']:5.1f} %  "
              f"{cpu:7.1f} s cpu {100 * cpu / r['cpu_s']:5.1f} %")


def print_ratios(results: dict[str, dict[str, Any]]) -> None:
    pipeline = results.get("pipeline")
    if not pipeline:
        return
    if "second" in results:  # the cost of the second recogniser (dlib), same run, same movie
        print(f"{'second / pipeline (wall time)':<32} "
              f"{results['second']['wall_s'] / pipeline['wall_s']:.2f}   (CPU seconds: "
              f"{results['second']['cpu_s'] / pipeline['cpu_s']:.2f})")
    for base, label in (("floor", "3/1 pipeline / decode floor"),
                        ("seed", "3/2 pipeline / seed loop"),
                        ("naive", "pipeline / naive, same runtime"),
                        ("grab", "pipeline / cv2 grab floor")):
        if base in results:
            # The CPU ratio compares work done, whatever else the machine was running.
            print(f"{label:<32} {pipeline['speed'] / results[base]['speed']:.2f}   "
                  f"(CPU seconds {base} / pipeline: "
                  f"{results[base]['cpu_s'] / pipeline['cpu_s']:.2f})")


# the children ---------------------------------------------------------------------------------
def run_part(part: str, movie: Path, fps: float, analyzer: dict[str, Any]) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from moviefaces_dag.media.video import probe_movie

    info = probe_movie(movie)
    started, cpu = time.monotonic(), time.process_time()
    detail, stages = {"floor": floor, "grab": grab_floor, "seed": seed, "naive": naive,
                      "pipeline": pipeline, "overlap": overlap,
                      "second": partial(pipeline, second="dlib")}[part](movie, fps, info,
                                                                         analyzer)
    return {"movie_seconds": info.duration, "wall_s": time.monotonic() - started,
            "cpu_s": time.process_time() - cpu, "detail": detail, "stages": stages}


def floor(movie: Path, fps: float, info, _analyzer: dict) -> tuple[str, dict]:
    from moviefaces_dag.media.video import keyframe_interval, sample_frames, seek_gap

    frames = sum(1 for _ in sample_frames(movie, fps))
    gap = seek_gap("auto", fps, keyframe_interval(movie))
    strategy = "sequential" if gap == float("inf") else f"seek when {gap:.1f} s ahead"
    return f"{frames} frames, {strategy}", {}


def grab_floor(movie: Path, fps: float, info, _analyzer: dict) -> tuple[str, dict]:
    import cv2

    capture = cv2.VideoCapture(str(movie))
    every = max(1, round(info.fps / fps))
    n = kept = 0
    while capture.grab():
        if n % every == 0:
            capture.retrieve()
            kept += 1
        n += 1
    return f"{kept} of {n} frames retrieved", {}


def seed(movie: Path, fps: float, info, settings: dict) -> tuple[str, dict]:
    """The seed as it was: its loop, with YuNet on OpenCV's DNN (benchmarks/seed_yunet.py) at
    the same detector settings, and the same recogniser."""
    from moviefaces_dag.defs.resources import FaceAnalyzerResource
    from moviefaces_dag.faces.opencv_backend import bundled_model
    from moviefaces_dag.faces.yunet import YUNET_FILE

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from seed_yunet import SeedYuNet

    resource = FaceAnalyzerResource(**settings)
    detector = SeedYuNet(str(bundled_model(YUNET_FILE)), max_side=resource.max_side,
                         upscale=resource.upscale, score_threshold=resource.score_threshold)
    return naive(movie, fps, info, settings,
                 lambda frame: [row[4:14].reshape(5, 2) for row in detector.detect(frame)])


def naive(movie: Path, fps: float, info, settings: dict,
          landmarks_of=None) -> tuple[str, dict]:
    """The same face models and settings as the pipeline part, in the seed design's loop."""
    import cv2
    import numpy as np

    from moviefaces_dag.defs.resources import FaceAnalyzerResource
    from moviefaces_dag.faces.alignment import align_face

    capture = cv2.VideoCapture(str(movie))
    every = max(1, round(info.fps / fps))
    n = faces = 0
    with FaceAnalyzerResource(**settings).analyzer() as analyzer:
        landmarks_of = landmarks_of or (
            lambda frame: [np.asarray(d.landmarks) for d in analyzer.detect(frame)])
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if n % every == 0:
                for landmarks in landmarks_of(frame):
                    analyzer.embed([align_face(frame, landmarks)])
                    faces += 1
            n += 1
    return f"{-(-n // every)} frames, {faces} faces", {}


def time_into(times: dict[str, tuple[float, float]], name: str, fn, *args):
    """fn(*args), with its wall and CPU seconds recorded as times[name]."""
    started, cpu = time.monotonic(), time.process_time()
    result = fn(*args)
    times[name] = (time.monotonic() - started, time.process_time() - cpu)
    return result


def pipeline(movie: Path, fps: float, info, analyzer: dict,
             second: str | None = None) -> tuple[str, dict]:
    from moviefaces_dag.core.progress import LogProgress
    from moviefaces_dag.defs.resources import FaceAnalyzerResource
    from moviefaces_dag.people.clustering import ClusterSettings
    from moviefaces_dag.pipeline import stages
    from moviefaces_dag.store import OutputRoot

    resource = FaceAnalyzerResource(**analyzer, **({"second_recognizer": second} if second
                                                   else {}))
    progress, quiet = LogProgress(), (lambda _message: None)
    times: dict[str, tuple[float, float]] = {}

    timed = partial(time_into, times)
    with tempfile.TemporaryDirectory(prefix="moviefaces-bench-") as tmp:
        out = Path(tmp)
        root = OutputRoot(out)
        with root.folder(root.register(movie)).writing("benchmark") as draft:
            timed("movie", stages.identify_movie, draft)
            timed("frames", stages.extract_frames, draft, fps, None, progress, quiet)
            with resource.analyzer() as analyzer:
                detected = timed("detections", stages.detect_faces, draft, analyzer,
                                 resource.detector_settings(), progress, quiet,
                                 resource.tracking())
                timed("embeddings", stages.embed_faces, draft, analyzer,
                      resource.recognizer_settings(), progress, quiet, resource.second())
            clustered = timed("clusters", stages.cluster_faces, draft.db, ClusterSettings())
            timed("report", stages.publish_report, draft)
    detail = (f"{detected['frames']} frames, {detected['faces']} faces, "
              f"{clustered['people']} people, detector {resource.detector_settings()}")
    return detail, times


def overlap(movie: Path, fps: float, info, analyzer: dict) -> tuple[str, dict]:
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    from moviefaces_dag.core.progress import LogProgress
    from moviefaces_dag.defs.resources import FaceAnalyzerResource
    from moviefaces_dag.pipeline import stages
    from moviefaces_dag.store import OutputRoot

    resource = FaceAnalyzerResource(**analyzer)
    progress, quiet = LogProgress(), (lambda _message: None)
    times: dict[str, tuple[float, float]] = {}

    timed = partial(time_into, times)
    with tempfile.TemporaryDirectory(prefix="moviefaces-bench-") as tmp, ExitStack() as stack:
        face_analyzer = stack.enter_context(resource.analyzer())
        drafts = []
        for name in ("first", "second"):  # two stores of the same movie
            root = OutputRoot(Path(tmp) / name)
            drafts.append(stack.enter_context(root.folder(root.register(movie))
                                              .writing("benchmark")))
            stages.identify_movie(drafts[-1])

        def frames(draft):
            stages.extract_frames(draft, fps, None, progress, quiet)

        def detections(draft):
            stages.detect_faces(draft, face_analyzer, resource.detector_settings(), progress,
                                quiet, resource.tracking())

        def both():
            # The decoding thread's errors re-raise here: a failed stage must not time as fast.
            with ThreadPoolExecutor(1) as pool:
                decoding = pool.submit(frames, drafts[1])
                detections(drafts[0])
                decoding.result()

        timed("frames", frames, drafts[0])
        timed("detections", detections, drafts[0])
        timed("both at once", both)
    apart, together = times["frames"][0] + times["detections"][0], times["both at once"][0]
    return (f"frames and detections one after the other {apart:.1f} s, at once "
            f"{together:.1f} s: {apart / together:.2f} x"), times


if __name__ == "__main__":
    raise SystemExit(main())
