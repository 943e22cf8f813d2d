"""People decisions through the real `moviefaces people` command on a real movie: names and
merges that survive re-clustering and reruns, splits, assignments, rejections, and every bad
input refused in one line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from commands import copy_of, moviefaces

from moviefaces_dag.people.decisions import Decisions, Face, FaceRef, apply_decisions
from moviefaces_dag.people.stable_ids import keep_ids
from moviefaces_dag.report.pairs import seen_together
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow


def people(out: Path) -> dict[int, tuple[int, str | None]]:
    db = OutputRoot(out).folder("cast_b").published()
    names = db.names()
    return {p.person_id: (p.face_count, names.get(p.person_id)) for p in db.people()}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    out = tmp_path_factory.mktemp("people") / "out"
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "20",
                      "--output-dir", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def out(base: Path, tmp_path: Path) -> Path:
    """A copy of the processed movie of the test's own (copying takes a fraction of a second,
    processing it again 20 s)."""
    return copy_of(base, tmp_path)


def test_names_and_merges_stick_through_reclustering_and_reruns(out: Path,
                                                                testdata: Path) -> None:
    before = people(out)
    assert len(before) >= 6
    ids = sorted(before)
    done = moviefaces("people", "name", "cast_b", ids[0], "<b>Penny</b> & co", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    report = (out / "cast_b" / "index.html").read_text()
    assert "&lt;b&gt;Penny&lt;/b&gt; &amp; co" in report and "<b>Penny" not in report
    # Two people who never share a frame (the report suggests none on cast_b: every pair of
    # its people is less likely than not one person).
    assert "moviefaces people merge" not in report
    faces = OutputRoot(out).folder("cast_b").published().faces()
    together = seen_together(faces)
    keep, other = next((a, b) for a in ids for b in ids
                       if a < b and frozenset((a, b)) not in together)
    assert moviefaces("people", "merge", "cast_b", keep, other, "--output-dir",
                      out).returncode == 0
    merged = people(out)
    assert other not in merged and merged[keep][0] == before[keep][0] + before[other][0]
    movie = testdata / "movies" / "cast_b.mp4"
    for again in (["--similarity-threshold", "0.3"], ["--force"]):  # new grouping; all redone
        done = moviefaces("run", movie, "--duration", "20", "--output-dir", out, *again)
        assert done.returncode == 0, done.stderr
        assert people(out) == merged, again
    listing = moviefaces("people", "list", "cast_b", "--output-dir", out)
    assert listing.returncode == 0 and "<b>Penny</b> & co" in listing.stdout


def test_split_assign_and_reject_are_applied_and_kept(out: Path, testdata: Path) -> None:
    db = OutputRoot(out).folder("cast_b").published()
    person = max(db.people(), key=lambda p: p.face_count)
    before = {p.person_id for p in db.people()}
    faces = [f for f in db.faces() if f.person_id == person.person_id]
    loose = [f for f in db.faces() if f.person_id is None]
    assert loose, "cast_b's first 20 s has unassigned faces"
    done = moviefaces("people", "split", "cast_b", person.person_id, "--faces",
                      f"{faces[0].id},{faces[1].id}", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    after = people(out)
    new = next(p for p in after if p not in before)
    assert after[new][0] == 2 and after[person.person_id][0] == person.face_count - 2
    assert moviefaces("people", "reject", "cast_b", loose[0].id, "--output-dir",
                      out).returncode == 0
    rerun = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "20",
                       "--output-dir", out, "--force")
    assert rerun.returncode == 0, rerun.stderr
    final = people(out)
    assert final[new][0] == 2  # the split person is kept, by face place, after a new detection


@pytest.mark.parametrize(("args", "says"), [
    (["merge", "cast_b", "1", "1"], "cannot be merged with itself"),
    (["merge", "cast_b", "1", "999"], "has no person 999"),
    (["name", "cast_b", "1", "   "], "a name cannot be empty"),
    (["name", "nowhere", "1", "x"], "nowhere has not been processed"),
    (["reject", "cast_b", "99999"], "has no face 99999"),
    (["split", "cast_b", "1", "--faces", "x"], "face ids are numbers"),
])
def test_bad_decisions_are_refused_in_one_line(out: Path, args: list[str], says: str) -> None:
    done = moviefaces("people", *args, "--output-dir", out)
    assert done.returncode in (1, 2)
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert not (out / "cast_b" / "decisions.json").exists()


def test_people_seen_together_cannot_be_merged(out: Path) -> None:
    db = OutputRoot(out).folder("cast_b").published()
    frames: dict[int, set[int]] = {}
    for face in db.faces():
        if face.person_id is not None:
            frames.setdefault(face.frame_id, set()).add(face.person_id)
    a, b = sorted(next(ids for ids in frames.values() if len(ids) > 1))[:2]
    done = moviefaces("people", "merge", "cast_b", a, b, "--output-dir", out)
    assert done.returncode == 1 and "are both in the frame at" in done.stderr


# the pieces, on their own ----------------------------------------------------------------------
def test_two_decisions_at_once_are_both_kept(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path)
    threads = [threading.Thread(target=decisions.add, args=({"op": "name", "person": n,
                                                             "name": f"n{n}"},))
               for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(d["person"] for d in decisions.load()) == list(range(1, 21))
    saved = json.loads(decisions.path.read_text())
    assert saved["version"] == 2 and [d["id"] for d in saved["decisions"]] == list(range(1, 21))


def test_ids_stay_with_substantially_the_same_faces() -> None:
    box = (10.0, 10.0, 50.0, 50.0)
    old = [(7, float(t), box) for t in range(10)] + [(9, float(t), box) for t in range(10, 14)]
    groups = {0: [(float(t), box) for t in range(8)],  # most of 7
              1: [(float(t), box) for t in range(8, 14)]}  # 7's last two and all of 9
    assert keep_ids(groups, old, next_id=12) == {0: 7, 1: 9}
    assert keep_ids({0: [(99.0, box)]}, old, next_id=12) == {0: 12}  # never 7 or 9 again


def test_a_decision_about_a_vanished_face_is_kept_and_reported() -> None:
    faces = [Face(1, 10, 0.0, (0.0, 0.0, 10.0, 10.0))]
    gone = FaceRef(5.0, (0.0, 0.0, 10.0, 10.0)).to_json()
    outcome = apply_decisions([{"op": "reject", "faces": [gone]},
                               {"op": "name", "person": 4, "name": "Nobody"}], faces, {1: 3})
    assert outcome.assignment == {1: 3}
    assert outcome.stale == ["reject of 1 face(s) that detection no longer finds",
                             "name 'Nobody' of person 4, who is no longer found"]
