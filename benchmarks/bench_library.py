#!/usr/bin/env python3
"""How long the library takes for a big collection: synthetic published movies (real stores,
embeddings drawn from a pool of identities so that people recur across movies), then the
library built and its pages rendered, each timed.

    python benchmarks/bench_library.py [--movies 200] [--people 100] [--faces 3]

Targets (issue "People across the library"): build under 30 s, the library page rendered in
under 5 s, for 200 movies x 100 people; after one movie's change, the library brought up to
date in at most 25 % of a full build's time (issue 22, part 4).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moviefaces_dag.people.library import published_library
from moviefaces_dag.pipeline.library import publish_library
from moviefaces_dag.report.library import build_library_view
from moviefaces_dag.report.render import environment
from moviefaces_dag.store import FaceRow, FrameRow, MovieFolder, OutputRoot, PersonRow
from moviefaces_dag.store.generations import MAIN_PAGE

DIM = 128
POOL = 2000  # identities the movies draw their casts from


def make_movie(root: OutputRoot, n: int, people: int, faces: int, pool: np.ndarray,
               rng: np.random.Generator) -> None:
    key = f"movie{n:04d}"
    folder = MovieFolder(root.path / key)
    with folder.writing("benchmark") as draft:
        db = draft.db
        db.set_movie(key, f"/movies/{key}.mp4")
        db.update_movie(duration=float(people * faces), width=640, height=360, fps=24.0,
                        fingerprint=f"fp{n}")
        frames = [FrameRow(i, float(i), f"frames/v/{i:06d}.jpg", 640, 360, cut_distance=float(
            i % 5 == 0)) for i in range(people * faces)]
        db.replace_frames(frames, {"fps": 1.0}, {"frames": len(frames), "rate": 1.0}, key,
                          "frames/v")
        frame_ids = [f.id for f in db.frames()]
        rows = [FaceRow(frame_id=frame_ids[p * faces + k], box=(10.0, 10.0, 80.0, 80.0),
                        score=0.95, landmarks=((1.0, 1.0),) * 5, sharpness=100.0, size=80.0,
                        frontalness=0.9, quality=0.8, crop_path=f"faces/v/{p}_{k}.jpg")
                for p in range(people) for k in range(faces)]
        db.replace_faces(rows, {}, {"faces": len(rows)}, "faces/v")
        stored = db.faces()
        cast = rng.choice(len(pool), people, replace=False)
        vectors = np.concatenate([pool[c] + rng.normal(0, 0.02, (faces, DIM)) for c in cast])
        db.set_embeddings([f.id for f in stored], vectors.astype(np.float32), "sface-bench", {},
                          {})
        assignment = {f.id: n_face // faces + 1 for n_face, f in enumerate(stored)}
        db.replace_people(assignment, [
            PersonRow(p + 1, faces, float(p * faces), float(p * faces + faces - 1),
                      stored[p * faces].id) for p in range(people)], {}, {})
        draft.publish(lambda _db, g: (g.staging / MAIN_PAGE).write_text("movie"))


def rename_person(root: OutputRoot, key: str, person: int, name: str) -> None:
    """Republish `key` with `person` named `name`, the people otherwise the same."""
    with root.folder(key).writing("benchmark: a decision") as draft:
        db = draft.db
        assignment = {f.id: f.person_id for f in db.faces()}
        db.replace_people(assignment, db.people(), {}, {}, {**db.names(), person: name})
        draft.publish(lambda _db, g: (g.staging / MAIN_PAGE).write_text("movie"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movies", type=int, default=200)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--faces", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(POOL, DIM))
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory(prefix="moviefaces-library-") as tmp:
        root = OutputRoot(Path(tmp))
        started = time.monotonic()
        for n in range(args.movies):
            make_movie(root, n, args.people, args.faces, pool, rng)
        made = time.monotonic() - started
        started = time.monotonic()
        result = publish_library(root)
        built = time.monotonic() - started
        # The library page itself, rendered again from the published library.
        library = published_library(root)
        started = time.monotonic()
        view = build_library_view(library, root, "library/g/x")
        page = environment().get_template("library.html.j2").render(
            library=view, base="", people=view.people, by="screen time")
        rendered = time.monotonic() - started
        # One decision in one movie: the library brought up to date, then built again whole.
        rename_person(root, f"movie{args.movies // 2:04d}", 1, "Renamed Person")
        started = time.monotonic()
        incremental = publish_library(root)
        updated = time.monotonic() - started
        started = time.monotonic()
        publish_library(root, full=True)
        rebuilt = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.movies} movies x {args.people} people ({args.faces} faces each), made in "
          f"{made:.1f} s")
    print(f"library: {result['people']} people, {result['across_movies']} in several movies, "
          f"{result['met_pairs']} pairs who met")
    print(f"build (load, link, write, pages): {built:.1f} s (target < 30 s)")
    print(f"after one movie's change: incremental {updated:.1f} s ({incremental['movies_read']} "
          f"movie read, {incremental['pages_rendered']} pages rendered, "
          f"{incremental['pages_kept']} kept), full {rebuilt:.1f} s: "
          f"{updated / rebuilt:.0%} of a full build (target <= 25 %)")
    print(f"the library page: {rendered:.1f} s, {len(page) / 1e6:.1f} MB (target < 5 s); "
          f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
