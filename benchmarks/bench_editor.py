"""How long the people editor takes to show the effect of an action, on a movie of about 2,000
faces.

The movie is synthetic (no video): a real store built like tests/synthetic_store.py but scaled
up, with real JPEG face crops, 48 identities in 12 groups of 4 (each sampled frame shows one
group, so people of different groups never share a frame and can be merged), embeddings near
each identity's own direction, and people assigned from the identities. It is published with
its report and library as the assets do, and registered as a Dagster partition, so the
background persist runs for real (Dagster in-process: clustering, report, library).

The editor runs as a real uvicorn server in a thread of this process; an httpx client performs
the actions (name, move to a new person, reject, merge, move to a person, portrait, hide, undo,
redo) and times each from the POST to the updated page (what the browser shows after the action)
being returned. The background persist is timed separately: after the actions, until it settles,
and then once more for a single action on its own.

    .venv/bin/python benchmarks/bench_editor.py                 # 2,000 faces, 20 actions
    .venv/bin/python benchmarks/bench_editor.py --faces 200 --actions 6
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

from moviefaces_dag.cli.common import dagster_instance
from moviefaces_dag.defs.partitions import MOVIES_PARTITION
from moviefaces_dag.editor.server import serve_in_thread
from moviefaces_dag.editor.views import movie_state
from moviefaces_dag.pipeline.library import publish_library
from moviefaces_dag.pipeline.stages import publish_report
from moviefaces_dag.store import FaceRow, FrameRow, MovieDB, MovieFolder, OutputRoot, PersonRow

KEY = "bench"
GROUPS, PER_FRAME = 12, 4
WIDTH, HEIGHT = 640, 360


def build(output: Path, faces: int) -> OutputRoot:
    """A published movie of `faces` faces (PER_FRAME per frame)."""
    root = OutputRoot(output)
    folder = MovieFolder(root.path / KEY)
    (folder.path / "frames").mkdir(parents=True)
    (folder.path / "faces").mkdir()
    store = MovieDB(folder.draft_path)
    frames_count = max(faces // PER_FRAME, GROUPS)
    store.set_movie(KEY, str(output / "bench.mp4"))
    store.update_movie(duration=float(frames_count), width=WIDTH, height=HEIGHT, fps=24.0)
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames = []
    for idx in range(frames_count):
        cv2.imwrite(str(folder.path / f"frames/{idx:06d}.jpg"), frame)
        frames.append(FrameRow(idx, float(idx), f"frames/{idx:06d}.jpg", WIDTH, HEIGHT,
                               cut_distance=0.0))
    store.replace_frames(frames, {"fps": 1.0, "duration": None},
                         {"frames": frames_count, "movie_seconds": float(frames_count),
                          "seconds": 1.0}, "synthetic", "frames")
    frame_ids = {f.idx: f.id for f in store.frames()}
    rows, identities = [], []
    for idx in range(frames_count):
        group = idx % GROUPS
        for slot in range(PER_FRAME):
            crop = f"faces/{idx:06d}_{slot}.jpg"
            tone = (37 * (group * PER_FRAME + slot)) % 255
            face = np.full((64, 64, 3), tone, dtype=np.uint8)
            face += rng.integers(0, 40, face.shape, dtype=np.uint8)
            cv2.imwrite(str(folder.path / crop), face)
            x = 20.0 + 150 * slot
            rows.append(FaceRow(frame_ids[idx], (x, 60.0, 64.0, 80.0), 0.9,
                                ((x + 15, 90), (x + 45, 90), (x + 30, 105), (x + 18, 122),
                                 (x + 42, 122)), 100.0, 64.0, 0.9,
                                0.5 + 0.4 * rng.random(), crop))
            identities.append(group * PER_FRAME + slot)
    store.replace_faces(rows, {"models": "yunet-test + sface-test"},
                        {"faces": len(rows), "seconds": 1.0}, "faces")
    stored = store.faces()
    by_place = {(f.frame_id, f.box): f.id for f in stored}
    ids = [by_place[(f.frame_id, f.box)] for f in rows]
    directions = np.eye(GROUPS * PER_FRAME, 128, dtype=np.float32)
    matrix = np.stack([directions[i] + rng.normal(0, 0.05, 128) for i in identities])
    store.set_embeddings(ids, (8.0 * matrix).astype(np.float32), "sface-test", {},
                         {"seconds": 1.0})
    person = {fid: identity + 1 for fid, identity in zip(ids, identities, strict=True)}
    faces_by = {f.id: f for f in store.faces()}
    people = []
    for pid in sorted(set(person.values())):
        group = [faces_by[f] for f, p in person.items() if p == pid]
        people.append(PersonRow(pid, len(group), min(f.time for f in group),
                                max(f.time for f in group), max(group, key=lambda f: f.quality).id))
    store.replace_people(person, people, {"similarity_threshold": 0.36, "min_faces": 2},
                         {"people": len(people), "seconds": 1.0})
    with folder.writing("benchmark") as draft:
        publish_report(draft)
    publish_library(root)
    dagster_instance(root.path).add_dynamic_partitions(MOVIES_PARTITION, [KEY])
    return root


def plan(root: OutputRoot, step: int) -> tuple[str, dict, str]:
    """The next action (name, body, page to show afterwards), chosen from the people now."""
    state = movie_state(root, KEY)
    people = state.people
    first, second = people[0], people[1]
    page = f"/movie/{KEY}/person/{first.id}"
    kind = ["name", "move_new", "reject", "merge", "undo", "redo", "move_to", "portrait",
            "hide", "undo"][step % 10]
    if kind == "name":
        return "name", {"person": first.id, "name": f"Actor {step}"}, page
    if kind == "move_new":
        return "move", {"faces": [f.id for f in first.faces[:3]], "person": "new"}, page
    if kind == "reject":
        return "reject", {"faces": [f.id for f in second.faces[:2]]}, page
    if kind == "merge":
        frames = state.grouping.frames_of(first.id)
        other = next(p for p in people[1:] if not state.grouping.frames_of(p.id) & frames)
        return "merge", {"person": first.id, "other": other.id}, page
    if kind == "move_to":
        frames = state.grouping.frames_of(first.id)
        free: dict[int, int] = {}  # frame -> face: one face per frame
        for face in (f for p in people[1:] for f in p.faces):
            frame = state.faces[face.id].frame_id
            if frame not in frames:
                free.setdefault(frame, face.id)
        return "move", {"faces": list(free.values())[:2], "person": first.id}, page
    if kind == "portrait":
        return "portrait", {"person": first.id, "face": first.faces[-1].id}, page
    if kind == "hide":
        return "hide", {"person": people[-1].id}, f"/movie/{KEY}"
    return kind, {}, page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=2000)
    parser.add_argument("--actions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="keep the store here")
    args = parser.parse_args()
    output = args.out or Path(tempfile.mkdtemp(prefix="bench-editor-"))
    started = time.monotonic()
    root = build(output / "out", args.faces)
    total = len(root.folder(KEY).published().faces())
    print(f"movie: {total} faces, {len(root.folder(KEY).published().people())} people "
          f"(built in {time.monotonic() - started:.1f} s) in {output}")
    running = serve_in_thread(root.path, "bench-token-123456")
    headers = {"X-Moviefaces-Token": running.token, "Origin": running.base}
    seconds = []
    try:
        with httpx.Client(base_url=running.base, timeout=120, follow_redirects=True) as client:
            client.get(f"/?token={running.token}")
            for step in range(args.actions):
                action, body, page = plan(root, step)
                begin = time.perf_counter()
                answer = client.post(f"/api/movie/{KEY}/{action}", json=body, headers=headers)
                shown = client.get(page)
                seconds.append(time.perf_counter() - begin)
                if answer.status_code != 200 or shown.status_code != 200:
                    print(f"{action}: {answer.status_code} {answer.text}", file=sys.stderr)
                    return 1
                print(f"{step + 1:>3} {action:<9} {seconds[-1]:.3f} s  {answer.json()['message']}")
            begin = time.monotonic()
            running.editor.wait(600)
            after = time.monotonic() - begin
            state = running.editor.status()["movies"][KEY]
            action, body, page = plan(root, 0)
            client.post(f"/api/movie/{KEY}/{action}", json=body, headers=headers)
            begin = time.monotonic()
            running.editor.wait(600)
            single = time.monotonic() - begin
            last = running.editor.status()["movies"][KEY]
    finally:
        running.stop()
    print(f"POST to updated page: median {statistics.median(seconds):.3f} s, "
          f"max {max(seconds):.3f} s over {len(seconds)} actions ({total} faces)")
    print(f"background persist: settled {after:.1f} s after the last action "
          f"({state['state']}{': ' + state['message'] if state['message'] else ''}); "
          f"one action on its own: {single:.1f} s (last run {last['seconds']:.1f} s, "
          f"{last['state']})")
    return 0 if last["state"] == "idle" else 1


if __name__ == "__main__":
    sys.exit(main())
