#!/usr/bin/env python3
"""Clustering time and peak memory on a long movie's worth of synthetic faces (default 50,000).

    python benchmarks/bench_clustering.py --faces 50000 --algorithm average

The faces imitate a movie sampled at a few frames per second: a cast with long-tailed screen
time, shots of 1-8 samples in which each person on screen is a short track (consecutive samples,
same place, nearly the same embedding), recurring appearances that differ more (another angle,
another light; the more, the lower the appearance's quality), 1-5 people per frame, and 10 %
stray detections with random embeddings and low scores. Prints seconds, peak RSS of the process
and how well the clustering recovered the cast (the embeddings are not SFace's: read the
quality figures as a sanity check, the hard movies in docs/clustering.md as the measure).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.evaluation import metrics
from moviefaces_dag.people.clustering import (
    ALGORITHMS,
    ClusterSettings,
    FaceContext,
    cluster_embeddings,
)

DIM = 128


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def synthetic_movie(n_faces: int, cast: int, seed: int) -> tuple[np.ndarray, np.ndarray,
                                                                 FaceContext, np.ndarray]:
    """(embeddings, frame ids, context, true identity; -1 = stray detection)."""
    rng = np.random.default_rng(seed)
    identities = _unit(rng.normal(size=(cast, DIM)))
    screen_time = 1.0 / np.arange(1, cast + 1) ** 0.8
    screen_time /= screen_time.sum()
    rows: list[tuple] = []  # (vector, frame, shot, box, person, quality, score)
    frame = shot = 0
    while len(rows) < n_faces:
        length = int(rng.integers(1, 9))
        on_screen = rng.choice(cast, size=int(rng.integers(1, 6)), replace=False, p=screen_time)
        for person in on_screen:
            # this appearance: the person's direction moved by pose and light, the more the worse
            # the face is seen; kept for the shot
            quality = rng.uniform(0.2, 1.0)
            spread = 0.6 + 1.0 * (1.0 - quality)
            look = _unit(identities[person] + rng.normal(scale=spread / np.sqrt(DIM), size=DIM))
            place = rng.uniform(0, 1700, 2)
            for k in range(length):
                vector = _unit(look + rng.normal(scale=0.5 / np.sqrt(DIM), size=DIM))
                rows.append((vector, frame + k, shot, [*(place + 5 * k), 90.0, 90.0], person,
                             quality, rng.uniform(0.7, 1.0)))
        for k in range(length):
            for _ in range(int(rng.random() < 0.3) * int(rng.integers(1, 3))):
                rows.append((_unit(rng.normal(size=DIM)), frame + k, shot,
                             [*rng.uniform(0, 1700, 2), 60.0, 60.0], -1,
                             rng.uniform(0.0, 0.4), rng.uniform(0.5, 0.8)))
        frame += length
        shot += 1
    rows = rows[:n_faces]
    columns = zip(*rows, strict=True)
    vectors, frames, shots, boxes, truth, quality, score = (np.asarray(c) for c in columns)
    context = FaceContext(quality=quality, score=score, sample=frames, shot=shots, boxes=boxes)
    return vectors.astype(np.float32), frames, context, truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=50_000)
    parser.add_argument("--cast", type=int, default=300)
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="average")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    vectors, frames, context, truth = synthetic_movie(args.faces, args.cast, args.seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    labels = cluster_embeddings(vectors, frames, ClusterSettings(algorithm=args.algorithm),
                                "sface", context)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    real = truth >= 0
    predicted = [int(p) if p >= 0 else None for p in labels[real]]
    b3 = metrics.bcubed(truth[real].tolist(), predicted)
    pw = metrics.pairwise(truth[real].tolist(), predicted)
    stray_assigned = int((labels[~real] >= 0).sum())
    print(f"faces {len(vectors)} ({int(real.sum())} real, cast {args.cast}), "
          f"algorithm {args.algorithm}")
    print(f"seconds {seconds:.1f}   peak RSS {peak:.0f} MiB (before clustering {before:.0f} MiB)")
    print(f"people {len(set(labels[labels >= 0].tolist()))}   BCubed F1 {b3.f1:.3f}   "
          f"pairwise P {pw.precision:.3f} R {pw.recall:.3f}   "
          f"stray detections assigned {stray_assigned}/{int((~real).sum())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
