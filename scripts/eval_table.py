#!/usr/bin/env python3
"""The evaluation table of docs/clustering.md: every movie x every face-model set x every
clustering algorithm (and the levers), scored against the movie's ground truth.

    python scripts/eval_table.py [MOVIE.mp4 ...] [--cache DIR] [--fps 1] [--models-dir DIR]
                                 [--json OUT.json] [--full-pass-every N]

Each movie needs its ground truth beside it (MOVIE.json, the format of
shared/testdata/movies/*.json); default: the hard movies in ../shared/testdata/movies.
Frames, detections and embeddings are computed once per movie and model and kept under --cache
(moviefaces_dag/evaluation/cache.py), so a rerun only clusters and scores (seconds per movie).
Model sets: the embedded YuNet + SFace (the default), the same joined by dlib's descriptor
(the opt-in second recogniser), ArcFace w600k_mbf from --models-dir with
SCRFD-500M (the onnx reference) and with YuNet, and the buffalo extra's files when installed.
Prints Markdown tables: every row, then the targets of the default and the ArcFace reference.
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

from moviefaces_dag.core.settings import SETTINGS
from moviefaces_dag.evaluation import models
from moviefaces_dag.evaluation.cache import Model, MovieCache
from moviefaces_dag.evaluation.scoring import MovieScore, score_movie
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.faces.dlib_descriptor import DLIB_ID
from moviefaces_dag.faces.tracking import Tracking
from moviefaces_dag.faces.types import FaceModelError
from moviefaces_dag.people.clustering import ALGORITHMS, ClusterSettings, cluster_people
from moviefaces_dag.people.vectors import grouping_vectors

FULL_EVERY = "face_analyzer.full_pass_every"
# SFace joined by dlib's descriptor (people/vectors.py): the opt-in second recogniser.
SECOND = "YuNet + SFace + dlib"
TESTDATA = Path(os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata"))
# What each lever row changes from the default (average linkage, every step on).
LEVERS: dict[str, ClusterSettings] = {
    "average, no evidence steps (attach only)": ClusterSettings(use_evidence=False),
    "average, no embedding-length gate": ClusterSettings(min_norm=0.0),
    "average, no quality gate": ClusterSettings(min_quality=0.0, min_score=0.0, min_norm=0.0),
    "average, no must-link / shot rule": ClusterSettings(use_video=False),
}
ALGORITHM_ROWS = {name: ClusterSettings(algorithm=name) for name in ALGORITHMS}
COLUMNS = ["movie", "models", "clustering", "recall >=40px", "assigned real", "BCubed P",
           "BCubed R", "BCubed F1", "pair P", "pair R", "pair F1", "unassigned",
           "people / true", "same-frame merges"]


def model_sets(models_dir: Path, tracking: Tracking
               ) -> dict[str, tuple[Model, Model, str, dict[str, ClusterSettings]]]:
    """name -> (detector, recogniser, recogniser id for the clustering defaults, rows); YuNet
    detects with `tracking`."""
    w600k = models_dir / "w600k_mbf_512.onnx"
    yunet = models.yunet(tracking)
    sets = {
        "YuNet + SFace (default)": (yunet, models.sface(), "sface",
                                    {**ALGORITHM_ROWS, **LEVERS}),
        SECOND: (yunet, models.sface(), f"sface+{DLIB_ID}", {"average": ClusterSettings()}),
        "SCRFD-500M + ArcFace w600k_mbf": (models.scrfd(models_dir / "scrfd_500m_kps.onnx"),
                                           models.onnx_recognizer(w600k), "w600k_mbf",
                                           {"average": ClusterSettings()}),
        "YuNet + ArcFace w600k_mbf": (yunet, models.onnx_recognizer(w600k), "w600k_mbf",
                                      {**ALGORITHM_ROWS, **LEVERS}),
    }
    try:
        from moviefaces_dag.faces.buffalo import buffalo_files

        detector, recognizer = buffalo_files()
        sets["buffalo extra (SCRFD-500M + w600k_mbf)"] = (
            models.scrfd(detector), models.onnx_recognizer(recognizer), "w600k_mbf",
            {"average": ClusterSettings()})
    except FaceModelError as exc:
        print(f"buffalo extra left out: {exc}", file=sys.stderr)
    return sets


def row(movie: str, model: str, variant: str, score: MovieScore) -> list[str]:
    d, i = score.detection, score.identity
    share = i.unassigned / i.faces if i.faces else 0.0
    return [movie, model, variant, f"{d.recall_min_px:.3f}", f"{d.assigned_precision:.3f}",
            f"{i.bcubed.precision:.3f}", f"{i.bcubed.recall:.3f}", f"{i.bcubed.f1:.3f}",
            f"{i.pairwise.precision:.3f}", f"{i.pairwise.recall:.3f}", f"{i.pairwise.f1:.3f}",
            f"{share:.3f} ({i.unassigned}/{i.faces})", f"{i.people_found} / {i.true_people}",
            f"{i.same_frame_merges}"]


def targets(movie: str, model: str, score: MovieScore, f1_target: float) -> list[str]:
    d, i = score.detection, score.identity
    share = i.unassigned / i.faces if i.faces else 0.0
    off = i.people_found / i.true_people - 1 if i.true_people else 0.0
    checks = [d.recall_min_px >= 0.93, i.bcubed.f1 >= f1_target, i.pairwise.precision >= 0.98,
              share <= 0.05, abs(off) <= 0.15, i.same_frame_merges == 0]
    return [movie, model, f"{d.recall_min_px:.3f}", f"{i.bcubed.f1:.3f}",
            f"{i.pairwise.precision:.3f}", f"{share:.3f}", f"{off:+.0%}",
            f"{i.same_frame_merges}", f"{sum(checks)} of {len(checks)}"]


def table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("movies", nargs="*", help="movies with MOVIE.json ground truth beside them")
    parser.add_argument("--cache", default="eval_cache",
                        help="where frames, detections and embeddings are kept between runs")
    parser.add_argument("--fps", type=float, default=1.0)
    parser.add_argument("--models-dir", type=Path, default=TESTDATA.parent / "models",
                        help="folder with scrfd_500m_kps.onnx and w600k_mbf_512.onnx")
    parser.add_argument("--json", default=None, help="also write every score here")
    parser.add_argument("--full-pass-every", type=int, default=SETTINGS[FULL_EVERY].default,
                        help="YuNet's full detection at least every N samples, faces tracked "
                             "between (1: a full detection on every sample alone)")
    args = parser.parse_args()
    movies = [Path(m) for m in args.movies] or [
        TESTDATA / "movies" / f"hard_{s}.mp4" for s in ("a", "b")]
    rows, target_rows, scores = [], [], {}
    sets = model_sets(args.models_dir, Tracking(full_every=args.full_pass_every))
    for movie in movies:
        truth = GroundTruth.load(movie.with_suffix(".json"))
        cache = MovieCache(Path(args.cache), movie, args.fps)
        for model, (detector, recognizer, model_id, variants) in sets.items():
            data = cache.load(detector, recognizer)
            vectors = grouping_vectors(data.embeddings, cache.second_embeddings(detector)
                                       if model == SECOND else None)
            for variant, settings in variants.items():
                people = cluster_people(vectors, data.frame, settings, model_id,
                                        data.context())
                score = score_movie(data.predictions(people.labels), truth)
                scores.setdefault(movie.stem, {}).setdefault(model, {})[variant] = asdict(score)
                rows.append(row(movie.stem, model, variant, score))
                if variant == "average":
                    target_rows.append(targets(movie.stem, model, score,
                                               0.88 if "SFace" in model else 0.93))
    print(table(COLUMNS, rows))
    print()
    print(table(["movie", "models", "recall >=40px (>= 0.93)", "BCubed F1 (>= 0.88 / 0.93)",
                 "pair P (>= 0.98)", "unassigned (<= 0.05)", "people vs cast (+-15 %)",
                 "same-frame merges (0)", "met"], target_rows))
    if args.json:
        Path(args.json).write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
