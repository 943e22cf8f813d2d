"""`moviefaces review` on a terminal: keys answer the queue's questions, each answer recorded
as a decision, u takes the last back, q ends (and the people are made again)."""

from __future__ import annotations

import builtins

from moviefaces_dag.cli import main
from moviefaces_dag.cli.review import answer_of
from moviefaces_dag.people.decisions import Decisions
from moviefaces_dag.people.questions import Question


def test_keys_map_to_answers() -> None:
    who = Question("who", "who:1", (1,), candidates=((7, 0.9), (3, 0.2)))
    assert [answer_of(who, k) for k in ("1", "2", "3", "0", "x", "s", "=12")] == \
        ["7", "3", None, "new", "nonface", "skip", "12"]
    assert answer_of(who, "m") is None  # a run of one track: one person
    whois = Question("who", "whois:4", (1, 2), 4, candidates=((7, 0.3),))
    assert [answer_of(whois, k) for k in ("1", "0", "m", "x")] == ["7", "new", "several",
                                                                  "nonface"]
    same = Question("same", "same:1:2", (1,), 1, 2, (2,))
    assert [answer_of(same, k) for k in ("y", "n", "s", "1", "x")] == \
        ["yes", "no", "skip", None, None]
    belongs = Question("belongs", "belongs:1:2", (2,), 1)
    assert [answer_of(belongs, k) for k in ("y", "n", "x")] == ["yes", "no", "nonface"]


def test_review_on_a_terminal(tmp_path, cast_a, monkeypatch, capsys) -> None:
    out_dir = tmp_path / "out"
    assert main(["run", str(cast_a), "--duration", "20", "--output-dir", str(out_dir)]) == 0
    intents = iter(["s", "?", "answer", "answer", "u", "q"])
    printed: list[str] = []

    def press(_prompt: str = "") -> str:
        printed.append(capsys.readouterr().out)
        intent = next(intents)
        if intent != "answer":
            return intent
        asked = [line for line in printed[-1].splitlines() if line[:1].isalpha()][-1]
        if asked.startswith("Who is this"):  # to the question just shown
            return "x"
        return "0" if asked.startswith("Who is person") else "n"  # none of these / no

    monkeypatch.setattr(builtins, "input", press)
    capsys.readouterr()
    assert main(["review", "cast_a", "--output-dir", str(out_dir)]) == 0
    out = "".join(printed) + capsys.readouterr().out
    assert "chance the answer changes the people" in out and "undone:" in out
    assert "not an answer to this question" in out and "report: file://" in out
    assert len(Decisions(out_dir / "cast_a").load()) == 1
