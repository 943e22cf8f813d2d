#!/usr/bin/env python3
"""The clustering table of docs/clustering.md: every algorithm on every movie, scored against
the movie's ground truth.

    python scripts/eval_table.py [MOVIE.mp4 ...] [--output-dir DIR] [--fps 1] [--json OUT.json]

Each movie needs its ground truth beside it (MOVIE.json, the format of
shared/testdata/movies/*.json); default: the hard movies in ../shared/testdata/movies. The
pipeline runs once per movie with the product's defaults (`moviefaces run`; results already in
--output-dir at the same --fps are reused), then the stored embeddings are clustered again with
each algorithm and scored. The store is left clustered with the default settings. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.cli.eval import ensure_results  # noqa: E402
from moviefaces_dag.clustering import ALGORITHMS, DEFAULT_ALGORITHM, ClusterSettings  # noqa: E402
from moviefaces_dag.evaluation.scoring import MovieScore, evaluate_stored  # noqa: E402
from moviefaces_dag.evaluation.truth import GroundTruth  # noqa: E402
from moviefaces_dag.pipeline import cluster_faces  # noqa: E402
from moviefaces_dag.upgrade import open_output  # noqa: E402

TESTDATA = Path(os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata"))
# What each row changes from the default (average linkage with every lever on).
VARIANTS: dict[str, ClusterSettings] = {
    **{name: ClusterSettings(algorithm=name) for name in ALGORITHMS},
    "average, no embedding-length gate": ClusterSettings(min_norm=0.0),
    "average, no quality gate": ClusterSettings(min_quality=0.0, min_score=0.0, min_norm=0.0),
    "average, no must-link / shot rule": ClusterSettings(use_video=False),
    # Peer-like set-ups (cannot-link still applies): Immich's DBSCAN (distance 0.5, 3 faces),
    # an online centroid without gate or video constraints.
    "peer: dbscan sim 0.5, no gate/video": ClusterSettings(
        algorithm="dbscan", similarity_threshold=0.5, min_quality=0.0, min_score=0.0,
        min_norm=0.0, use_video=False),
    "peer: greedy, no gate/video": ClusterSettings(
        algorithm="greedy", min_quality=0.0, min_score=0.0, min_norm=0.0, use_video=False),
}
COLUMNS = ["movie", "clustering", "recall >=40px", "det. precision", "assigned real",
           "BCubed P", "BCubed R", "BCubed F1", "pair P", "pair R", "pair F1", "NMI", "purity",
           "people / true", "same-frame merges", "unassigned"]


def row(movie: str, variant: str, score: MovieScore) -> list[str]:
    d, i = score.detection, score.identity
    return [movie, variant, f"{d.recall_min_px:.3f}", f"{d.precision:.3f}",
            f"{d.assigned_precision:.3f}", f"{i.bcubed.precision:.3f}", f"{i.bcubed.recall:.3f}",
            f"{i.bcubed.f1:.3f}", f"{i.pairwise.precision:.3f}", f"{i.pairwise.recall:.3f}",
            f"{i.pairwise.f1:.3f}", f"{i.nmi:.3f}", f"{i.purity:.3f}",
            f"{i.people_found} / {i.true_people}", f"{i.same_frame_merges}",
            f"{i.unassigned} / {i.faces}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("movies", nargs="*", help="movies with MOVIE.json ground truth beside them")
    parser.add_argument("--output-dir", default="eval_output",
                        help="where the pipeline keeps its results (reused between runs)")
    parser.add_argument("--fps", type=float, default=1.0)
    parser.add_argument("--json", default=None, help="also write every score here")
    args = parser.parse_args()
    movies = [Path(m) for m in args.movies] or [
        TESTDATA / "movies" / f"hard_{s}.mp4" for s in ("a", "b")]
    root = open_output(Path(args.output_dir).resolve())
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    scores: dict[str, dict] = {}
    for movie in movies:
        truth_path = movie.with_suffix(".json")
        truth = GroundTruth.load(truth_path)
        folder = ensure_results(movie, root, args.fps)
        with folder.writing("scripts/eval_table.py") as draft:
            for name, settings in VARIANTS.items():
                cluster_faces(draft.db, settings)
                score = evaluate_stored(draft.db, truth)
                scores.setdefault(movie.stem, {})[name] = asdict(score)
                lines.append("| " + " | ".join(row(movie.stem, name, score)) + " |")
            cluster_faces(draft.db, ClusterSettings(algorithm=DEFAULT_ALGORITHM))
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
