#!/usr/bin/env python3
"""How well the library links people across movies: precision and recall of its links against
the movies' ground truth.

    python scripts/library_links.py MOVIE.mp4 MOVIE.mp4 ... [--output-dir DIR] [--fps 1]

Each movie needs its ground truth beside it (MOVIE.json). Runs `moviefaces run` on each (what is
already done is reused), builds the library, prints the score and every wrong link.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.cli import main as moviefaces
from moviefaces_dag.evaluation.links import person_identities, score_links
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.people.library import library_path
from moviefaces_dag.store import OutputRoot
from moviefaces_dag.store.generations import Generations
from moviefaces_dag.store.library_db import LIBRARY_DB, LibraryDB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("movies", nargs="+", type=Path)
    parser.add_argument("--output-dir", default="links_output")
    parser.add_argument("--fps", default="1")
    args = parser.parse_args()
    for movie in args.movies:
        if moviefaces(["run", str(movie), "--output-dir", args.output_dir, "--fps", args.fps]):
            return 1
    root = OutputRoot(args.output_dir)
    identity = {}
    for movie in args.movies:
        key = root.register(movie)
        truth = GroundTruth.load(movie.with_suffix(".json"))
        for person, who in person_identities(root.folder(key).published(), truth).items():
            identity[(key, person)] = who
    generations = Generations(library_path(root), root.path / "index.html")
    library = LibraryDB(generations.path(generations.current()) / LIBRARY_DB, readonly=True)
    score = score_links(library.people(), identity)
    print(f"links {score.links}, right {score.right}, possible {score.possible}: "
          f"precision {score.precision:.3f}, recall {score.recall:.3f}; identities in several "
          f"movies {score.shared}, joined {score.joined}")
    for wrong in score.wrong:
        print(f"  wrong: {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
