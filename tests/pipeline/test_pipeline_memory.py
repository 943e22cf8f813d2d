"""Streaming stages: bounded read-ahead, errors and early stops, flat memory, batched embedding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from moviefaces_dag.faces.alignment import align_face
from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.media.streaming import bounded_map, prefetch
from moviefaces_dag.media.video import sample_frames


class Counting:
    """An iterator that records how far it has been consumed and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None):
        self.n, self.fail_at, self.produced, self.closed = n, fail_at, 0, False

    def __iter__(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise OSError(f"item {i} is unreadable")
                self.produced += 1
                yield i
        finally:
            self.closed = True


def test_prefetch_keeps_order_and_runs_at_most_depth_ahead() -> None:
    source = Counting(50)
    seen = []
    for item in prefetch(iter(source), depth=3):
        time.sleep(0.002)  # a slow consumer: the producer must wait for it
        # Queued items, plus one held by the blocked producer, plus the one in hand.
        assert source.produced - len(seen) <= 3 + 2
        seen.append(item)
    assert seen == list(range(50))
    assert source.closed


def test_prefetch_reraises_the_producers_error_after_its_items() -> None:
    seen = []
    with pytest.raises(OSError, match="item 4 is unreadable"):
        for item in prefetch(iter(Counting(10, fail_at=4)), depth=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3]


def test_prefetch_stops_and_closes_the_producer_when_the_consumer_stops() -> None:
    source = Counting(10_000)
    iterator = iter(source)
    before = threading.active_count()
    for item in prefetch(iterator, depth=2):
        if item == 5:
            break
    assert source.closed and source.produced < 20
    assert threading.active_count() == before


def test_prefetched_movie_is_closed_when_the_consumer_stops(cast_a: Path) -> None:
    frames = sample_frames(cast_a, 1.0)
    for frame in prefetch(frames, depth=2):
        if frame.index == 2:
            break
    assert frames.gi_frame is None  # the generator (and its container) was closed


def test_bounded_map_keeps_order_with_at_most_depth_in_flight() -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def slow_square(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.001 * (x % 3))
        with lock:
            running -= 1
        return x * x

    source = Counting(40)
    results = []
    for value in bounded_map(slow_square, iter(source), workers=2, depth=5):
        assert source.produced - len(results) <= 5
        results.append(value)
    assert results == [x * x for x in range(40)]
    assert peak <= 2


# flat memory ------------------------------------------------------------------------------------
FRAMES_CHILD = """
import json, resource, sys
from pathlib import Path
from moviefaces_dag.pipeline.stages import extract_frames
from moviefaces_dag.core.progress import LogProgress
from moviefaces_dag.store import OutputRoot
movie, out, duration = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
root = OutputRoot(out)
with root.folder(root.register(Path(movie))).writing("test") as draft:
    stats = extract_frames(draft, 1.0, duration, LogProgress(), lambda _: None)
print(json.dumps({"frames": stats["frames"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def frames_stage_peak(movie: Path, out: Path, duration: float) -> dict:
    done = subprocess.run([sys.executable, "-c", FRAMES_CHILD, str(movie), str(out), str(duration)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_frames_stage_memory_does_not_grow_with_movie_length(cast_a: Path, tmp_path: Path) -> None:
    short = frames_stage_peak(cast_a, tmp_path / "short", 8)
    long = frames_stage_peak(cast_a, tmp_path / "long", 72)
    assert (short["frames"], long["frames"]) == (8, 72)
    # Holding every 1280x720 frame would add 64 x 2.7 MB = 170 MB.
    assert long["rss_mb"] - short["rss_mb"] < 40, (short, long)


# batched recogniser -----------------------------------------------------------------------------
def test_batched_embeddings_equal_one_face_at_a_time(cast_a: Path) -> None:
    analyzer = OpenCVFaceAnalyzer(batch_size=4)
    faces = []
    for frame in sample_frames(cast_a, 0.5, duration=30):
        for det in analyzer.detect(frame.image):
            faces.append(align_face(frame.image, np.asarray(det.landmarks)))
    assert len(faces) >= 6
    batched = analyzer.embed(faces)  # several calls of 4 and a remainder
    single = np.concatenate([analyzer.embed([face]) for face in faces])
    assert batched.shape == (len(faces), 128) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_concurrent_calls_give_the_same_faces_as_one_thread(cast_a: Path) -> None:
    analyzer = OpenCVFaceAnalyzer()
    images = [f.image for f in sample_frames(cast_a, 0.5, duration=24)]
    alone = [analyzer.detect(image) for image in images]
    with ThreadPoolExecutor(analyzer.concurrency + 1) as pool:
        together = list(pool.map(analyzer.detect, images))
    assert sum(map(len, alone)) >= 6
    assert [[d.box for d in ds] for ds in together] == [[d.box for d in ds] for ds in alone]
    faces = [align_face(image, np.asarray(d.landmarks)) for image, ds in zip(images, alone,
             strict=True) for d in ds]
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(analyzer.embed, [faces[::2], faces[1::2]]))
    np.testing.assert_allclose(halves[0], analyzer.embed(faces[::2]), atol=1e-5)
    np.testing.assert_allclose(halves[1], analyzer.embed(faces[1::2]), atol=1e-5)


# the benchmark ----------------------------------------------------------------------------------
def test_benchmark_measures_every_part_in_its_own_process(testdata: Path, tmp_path: Path) -> None:
    movie = testdata / "videos" / "pyfeat_single_face.mp4"
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_pipeline.py", "--movie", str(movie),
         "--parts", "floor,grab,seed,naive,pipeline,overlap", "--json", str(report)],
        cwd=Path(__file__).parents[2], capture_output=True, text=True, check=True,
    )
    results = json.loads(report.read_text())
    assert set(results) == {"floor", "grab", "seed", "naive", "pipeline", "overlap"}
    for part in results.values():
        assert part["movie_seconds"] == pytest.approx(2.4, abs=0.1)
        assert part["speed"] > 0 and 50 < part["peak_rss_mb"] < 1500
    stages = results["pipeline"]["stages"]
    assert list(stages) == ["movie", "frames", "detections", "embeddings", "clusters", "report"]
    assert sum(wall for wall, _cpu in stages.values()) <= results["pipeline"]["wall_s"]
    # the seed's detector and moviefaces' own find the one face on each of the 3 samples
    assert results["seed"]["detail"] == results["naive"]["detail"] == "3 frames, 3 faces"
    assert results["pipeline"]["detail"].startswith("3 frames")
    # the overlap part times both stages apart, then at once on a second store
    assert list(results["overlap"]["stages"]) == ["frames", "detections", "both at once"]
    assert "at once" in results["overlap"]["detail"]
    assert "3/1 pipeline / decode floor" in done.stdout
    assert "3/2 pipeline / seed loop" in done.stdout
    assert "pipeline / naive, same runtime" in done.stdout
