"""`moviefaces review MOVIE`: the review queue on a terminal. One question at a time, best
first; each answer is recorded as a decision at once (y yes, n no, s skip, a candidate's number,
=ID another person, 0 a new person / none of these / one person, m several people, x not a
face, u undo, q quit). At the end the people and the report are made again with the answers, as
after `moviefaces people`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..core.words import timecode
from ..people.decisions import Decisions
from ..people.questions import Question
from ..people.review import Review
from ..people.review_data import ReviewData
from .common import add_setting, movie_folder, output_root, printable
from .people import _applied, describe


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("review", help="answer the questions that most likely fix a "
                            "movie's people, one at a time")
    parser.add_argument("movie", help="the movie file or its key")
    parser.add_argument("--max", type=int, default=0, help="stop after this many answers")
    add_setting(parser, "store.output_dir")
    parser.set_defaults(func=review_movie)


def show(question: Question, data: ReviewData) -> str:
    def faces(ids: tuple[int, ...]) -> str:
        return ", ".join(f"#{f} at {timecode(float(data.rows[f].time or 0.0))}" for f in ids)

    lines = [question.text(), f"  chance the answer changes the people: "
             f"{100 * question.chance:.0f} %{'' if question.likely else ' (nothing likely)'}"]
    if question.kind == "same":
        lines += [f"  person {question.person}: {faces(question.faces)}",
                  f"  person {question.other}: {faces(question.other_faces)}",
                  "  [y] same person  [n] not  [s] skip"]
    elif question.kind == "who":
        lines.append(f"  faces: {faces(question.faces)}")
        lines += [f"  [{n}] person {p} ({100 * c:.0f} %)"
                  for n, (p, c) in enumerate(question.candidates, start=1)]
        lines.append("  [=ID] another person by id  "
                     f"[0] {question.new_label}"
                     f"{'  [m] several people' if 'several' in question.answers else ''}"
                     "  [x] not a face  [s] skip")
    else:
        rejectable = "  [x] not a face" if question.kind == "belongs" else ""
        lines += [f"  faces: {faces(question.faces)}", f"  [y] yes  [n] no{rejectable}  [s] skip"]
    return "\n".join(lines)


def answer_of(question: Question, key: str) -> str | None:
    """The queue's answer for a key pressed (None: not an answer to this question)."""
    key = key.strip().lower()
    if key == "s":
        return "skip"
    if question.kind == "who":
        if key == "0":
            return "new"
        if key == "x":
            return "nonface"
        if key == "m" and "several" in question.answers:
            return "several"
        if key.isdigit() and 1 <= int(key) <= len(question.candidates):
            return str(question.candidates[int(key) - 1][0])
        if key.startswith("=") and key[1:].strip().isdigit():  # any person, by id
            return key[1:].strip()
        return None
    if key == "x" and "nonface" in question.answers:
        return "nonface"
    return {"y": "yes", "n": "no"}.get(key)


def review_movie(args: argparse.Namespace, ask: Callable[[str], str] | None = None) -> int:
    ask = ask or input
    root = output_root(args)
    folder = movie_folder(root, args.movie)
    decisions = Decisions(folder.path)
    data = ReviewData(folder.published())
    skipped: set[str] = set()
    answered = 0
    while not args.max or answered < args.max:
        review = Review(data, decisions.load(), skipped)
        question = review.next()
        if question is None:
            print("nothing left to ask")
            break
        print(show(question, data))
        try:
            key = ask("> ")
        except EOFError:
            break
        if key.strip().lower() == "q":
            break
        if key.strip().lower() == "u":
            print(f"undone: {describe(decisions.undo())}")
            continue
        answer = answer_of(question, key)
        if answer is None:
            print(f"not an answer to this question: {printable(key)!r}")
            continue
        try:
            decision = review.decision(question, answer)
        except ValueError as exc:
            print(printable(str(exc)))
            continue
        answered += 1
        if decision is not None:
            print(describe(decisions.add(decision)))
    if not answered:
        return 0
    return _applied(root, folder, f"{answered} answer(s)")
