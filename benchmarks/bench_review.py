"""How fast the review queue makes a movie's people right: answer its questions from the
ground truth and score the people after 0, 10, 25, 50 answers.

    .venv/bin/python benchmarks/bench_review.py MOVIE --truth MOVIE.json --answers 0,10,25,50 \
        [--output-dir DIR] [--json OUT]

The movie is processed with `moviefaces run` (default settings, 1 fps) unless DIR already
holds it. The queue is driven as the editor's review page drives it (people/review.py: the
people after the decisions so far, the next question, the answer's decision); the oracle only
answers, it never orders. With --output-dir the last row's answers stay recorded as the movie's
decisions and are applied (`moviefaces export` and `moviefaces eval` read the corrected
people).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from moviefaces_dag.cli.eval import ensure_results
from moviefaces_dag.cli.people import apply_decisions_now
from moviefaces_dag.evaluation.oracle import Oracle, score_outcome, true_identities
from moviefaces_dag.evaluation.truth import GroundTruth
from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.people.review import Review
from moviefaces_dag.people.review_data import ReviewData
from moviefaces_dag.store import OutputRoot


def row(answers: int, score, seconds: list[float], pair_p_min: float) -> dict:
    i = score.identity
    return {"answers": answers, "bcubed_p": round(i.bcubed.precision, 4),
            "bcubed_r": round(i.bcubed.recall, 4), "bcubed_f1": round(i.bcubed.f1, 4),
            "pair_p": round(i.pairwise.precision, 4), "unassigned_real": i.unassigned,
            "real_faces": i.faces, "people": i.people_found, "true_people": i.true_people,
            "seconds_per_answer": round(statistics.median(seconds), 4) if seconds else 0.0,
            # the least pairwise precision after any number of answers up to this row
            "pair_p_min": round(min(pair_p_min, i.pairwise.precision), 4)}


def drive(data: ReviewData, oracle: Oracle, truth: GroundTruth, counts: list[int],
          decisions: list[dict], log=None) -> list[dict]:
    """Answer up to max(counts) questions; a row of scores at each count."""
    faces, frames = list(data.rows.values()), data.frames
    review = Review(data, list(decisions))
    rows, seconds, answered, least = [], [], 0, 1.0
    while True:
        score = score_outcome(faces, frames, review.outcome, truth)  # after every answer
        least = min(least, score.identity.pairwise.precision)
        if answered in counts:
            rows.append(row(answered, score, seconds, least))
        if answered >= max(counts):
            break
        started = time.perf_counter()
        question = review.next()
        if question is None:
            for rest in (c for c in counts if c > answered):
                rows.append({**rows[-1], "answers": rest, "ran_out": True})
            break
        answer = oracle.answer(question, review.outcome)
        decision = review.decision(question, answer)
        if decision is not None:
            decisions.append({**decision, "id": len(decisions) + 1})
        review = Review(data, list(decisions), review.skipped)
        seconds.append(time.perf_counter() - started)
        answered += 1
        if log:
            print(f"  {answered:3d} {question.key:16s} p={question.chance:.2f} "
                  f"gain={question.gain:.2f} -> {answer}", file=log)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("movie")
    parser.add_argument("--truth", required=True)
    parser.add_argument("--answers", default="0,10,25,50")
    parser.add_argument("--output-dir", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--no-record", action="store_true",
                        help="leave the movie's decisions as they are (for trying things out)")
    parser.add_argument("--verbose", action="store_true", help="print every question")
    args = parser.parse_args(argv)
    counts = sorted({int(c) for c in args.answers.split(",")})
    out = Path(args.output_dir) if args.output_dir else Path(tempfile.mkdtemp(prefix="review-"))
    root = OutputRoot(out)
    folder = ensure_results(Path(args.movie), root, 1.0)
    decisions_file = Decisions(folder.path)
    if decisions_file.load():
        sys.exit(f"{decisions_file.path} already holds decisions: use a fresh output folder")
    db = folder.published()
    truth = GroundTruth.load(Path(args.truth))
    data = ReviewData(db)
    oracle = Oracle(true_identities(list(data.rows.values()), data.frames, truth),
                    {f: row.frame_id for f, row in data.rows.items()})
    decisions: list[dict] = []
    rows = drive(data, oracle, truth, counts, decisions, sys.stderr if args.verbose else None)
    print(f"{folder.key}: {len(data.rows)} faces")
    print("answers  BCubed P    R     F1   pair P (least)  unassigned real  people/true  s/answer")
    for r in rows:
        print(f"{r['answers']:7d}  {r['bcubed_p']:.3f}  {r['bcubed_r']:.3f}  {r['bcubed_f1']:.3f}"
              f"  {r['pair_p']:.4f} ({r['pair_p_min']:.4f})"
              f"  {r['unassigned_real']:4d}/{r['real_faces']:<4d}"
              f"        {r['people']:3d}/{r['true_people']:<3d}    {r['seconds_per_answer']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"movie": folder.key, "rows": rows}, indent=1)
                                   + "\n")
    if args.output_dir and decisions and not args.no_record:
        for decision in decisions:
            decisions_file.add({k: v for k, v in decision.items() if k != "id"})
        apply_decisions_now(root, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
