"""The decisions file: checked on every read and before every write (one line naming the file
and the entry, nothing appended), and its history of undo, redo and withdrawals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moviefaces_dag.people.decision_log import DecisionError
from moviefaces_dag.people.decisions import Decisions

PLACE = {"time": 1.0, "box": [10, 10, 50, 50]}
DAMAGED = {
    "truncated": '{"version": 2, "decisions": [{"op": "name", "per',
    "a list": "[]",
    "an int entry": '{"version": 2, "decisions": [3]}',
    "a missing field": '{"version": 2, "decisions": [{"op": "merge", "person": 1}]}',
    "a wrong type": '{"version": 2, "decisions": [{"op": "name", "person": "x", "name": "A"}]}',
    "an unknown op": '{"version": 2, "decisions": [{"op": "explode"}]}',
    "an unknown field": '{"version": 2, "decisions": [{"op": "hide", "person": 1, "x": 1}]}',
    "a newer version": '{"version": 9, "decisions": []}',
    "a bad undo": '{"version": 2, "decisions": [{"op": "undo", "decision": 1}]}',
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_a_damaged_file_is_named_in_one_line_and_nothing_is_appended(damage: str,
                                                                    tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    decisions.path.write_text(DAMAGED[damage])
    for act in (decisions.load, lambda: decisions.add({"op": "hide", "person": 1}),
                decisions.undo, decisions.redo):
        with pytest.raises(DecisionError) as caught:
            act()
        message = str(caught.value)
        assert str(decisions.path) in message and "\n" not in message
    assert decisions.path.read_text() == DAMAGED[damage]


def test_an_entry_is_named_by_its_place(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    decisions.path.write_text(json.dumps({"version": 2, "decisions": [
        {"op": "name", "person": 1, "name": "A"}, {"op": "split", "new_person": 2,
                                                   "faces": [{"time": -1, "box": [0, 0, 1, 1]}]}
    ]}))
    with pytest.raises(DecisionError, match=r"decision 2: faces\.0\.time"):
        decisions.load()


def test_a_decision_of_the_wrong_form_records_nothing(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    decisions.add({"op": "name", "person": 1, "name": "A"})
    before = decisions.path.read_text()
    for wrong in ({"op": "name", "person": 1, "name": ""}, {"op": "merge", "person": 1},
                  {"op": "link", "movie": "a", "person": 1, "other_movie": "b", "other": 2},
                  {"op": "withdraw", "decision": 5}):
        with pytest.raises(DecisionError, match="not recorded|not in force"):
            decisions.add(wrong) if wrong["op"] != "withdraw" else decisions.withdraw(5)
    assert decisions.path.read_text() == before


def test_a_version_1_file_is_read_and_kept_in_order(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    decisions.path.write_text(json.dumps({"version": 1, "decisions": [
        {"op": "name", "person": 1, "name": "A", "at": "then"},
        {"op": "reject", "faces": [PLACE]}]}))
    assert [d["id"] for d in decisions.load()] == [1, 2]
    decisions.add({"op": "hide", "person": 3})
    saved = json.loads(decisions.path.read_text())
    assert saved["version"] == 2 and [d["id"] for d in saved["decisions"]] == [1, 2, 3]
    assert saved["decisions"][0]["at"] == "then"


def test_undo_redo_and_withdraw(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    name = decisions.add({"op": "name", "person": 1, "name": "A"})
    merge = decisions.add({"op": "merge", "person": 1, "other": 2})
    hide = decisions.add({"op": "hide", "person": 3})

    def ops() -> list[str]:
        return [d["op"] for d in decisions.load()]

    assert decisions.undo() == hide and ops() == ["name", "merge"]
    assert decisions.undo() == merge and ops() == ["name"]
    assert decisions.redo() == merge and ops() == ["name", "merge"]
    assert decisions.withdraw(name["id"]) == name and ops() == ["merge"]
    with pytest.raises(DecisionError, match="not in force"):
        decisions.withdraw(name["id"])  # never twice
    assert decisions.undo()["op"] == "withdraw" and ops() == ["name", "merge"]  # undoes it
    digest = decisions.digest()
    decisions.add({"op": "hide", "person": 4})  # a new step: nothing left to redo
    with pytest.raises(DecisionError, match="nothing to redo"):
        decisions.redo()
    decisions.undo()
    assert decisions.digest() == digest  # the same decisions in force: the same version
    states = {e["id"]: e["op"] for e in decisions.entries()}
    assert list(states.values()).count("undo") == 4


def test_nothing_to_undo(tmp_path: Path) -> None:
    with pytest.raises(DecisionError, match="nothing to undo"):
        Decisions(tmp_path).undo()
    assert not (tmp_path / "decisions.json").exists()
