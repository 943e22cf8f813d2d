"""The real SQLite stores and folders: one movie's database, its draft and published result,
one writer at a time, and the output root's movies."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from moviefaces_dag.people.vectors import grouping_embeddings
from moviefaces_dag.store import (
    FaceRow,
    FrameRow,
    MovieBusyError,
    MovieDB,
    MovieFolder,
    NotPublishedError,
    OutputRoot,
    PersonRow,
    StoreError,
    movie_key,
)
from moviefaces_dag.store.generations import MAIN_PAGE


def face(frame_id: int, n: int) -> FaceRow:
    return FaceRow(
        frame_id=frame_id, box=(10.0 * n, 20.0, 30.0, 40.0), score=0.9,
        landmarks=((1.0, 2.0),) * 5, sharpness=100.0, size=30.0, frontalness=0.8,
        quality=0.7, crop_path=f"faces/v1/{frame_id}_{n}.jpg",
    )


def fill(db: MovieDB) -> None:
    db.set_movie("m", "/movies/m.mp4")
    db.replace_frames([FrameRow(i, float(i), f"frames/v1/{i}.jpg", 64, 48) for i in range(3)],
                      {"fps": 1.0}, {"frames": 3}, "movie-1", "frames/v1")
    frames = db.frames()
    db.replace_faces([face(frames[0].id, 0), face(frames[0].id, 1), face(frames[2].id, 0)],
                     {"models": "x"}, {"faces": 3}, "faces/v1")


@pytest.fixture
def db(tmp_path: Path) -> MovieDB:
    db = MovieDB(tmp_path / "db.sqlite")
    fill(db)
    return db


def embed_and_cluster(db: MovieDB) -> None:
    """Embeddings for every face; the second face unassigned, the others one person."""
    ids = [f.id for f in db.faces()]
    db.set_embeddings(ids, np.eye(len(ids), 4, dtype=np.float32) * 8, "model-4d", {}, {})
    people = {fid: (None if n == 1 else 1) for n, fid in enumerate(ids)}
    db.replace_people(people, [PersonRow(1, len(ids) - (len(ids) > 1), 0.0, 2.0, ids[0])],
                      {}, {})


def test_foreign_keys_hold(db: MovieDB) -> None:
    with db.transaction() as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO faces (frame_id, x, y, w, h, score, landmarks, sharpness, "
                     "size, frontalness, quality, crop_path) "
                     "VALUES (999, 0, 0, 1, 1, 1, '[]', 1, 1, 1, 1, '')")


def test_faces_round_trip_in_time_order(db: MovieDB) -> None:
    faces = db.faces()
    assert [f.time for f in faces] == [0.0, 0.0, 2.0]
    assert faces[1].box == (10.0, 20.0, 30.0, 40.0)
    assert faces[0].landmarks == ((1.0, 2.0),) * 5
    assert faces[0].crop_path == "faces/v1/1_0.jpg"  # relative: the folder can move


def test_embeddings_keep_dimension_model_and_length(db: MovieDB) -> None:
    ids = [f.id for f in db.faces()]
    vectors = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    db.set_embeddings(ids, vectors, "model-7d", {}, {})
    got_ids, matrix, model = db.embeddings()
    assert got_ids == ids and model == "model-7d" and matrix.shape == (3, 7)
    lengths = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(matrix, vectors / lengths[:, None], rtol=1e-6)
    assert [f.embedding_norm for f in db.faces()] == pytest.approx(lengths.tolist())


def test_a_snapshot_from_before_the_second_recogniser_reads_as_one_recogniser(
        db: MovieDB) -> None:
    """A movie published by an older release has no second-embedding columns; read-only
    readers (review, editor, people list) take it as embedded by one recogniser."""
    ids = [f.id for f in db.faces()]
    db.set_embeddings(ids, np.eye(len(ids), 4, dtype=np.float32), "model-4d", {}, {})
    with db.transaction() as conn:
        conn.execute("ALTER TABLE faces DROP COLUMN second_model")
        conn.execute("ALTER TABLE faces DROP COLUMN second_embedding")
    old = MovieDB(db.db_path, readonly=True)
    assert old.second_embeddings(ids) is None
    assert grouping_embeddings(old)[2] == "model-4d"


def test_failed_replace_keeps_previous_rows(db: MovieDB) -> None:
    before = db.faces()

    def exploding():
        yield face(db.frames()[1].id, 0)
        raise RuntimeError("killed halfway")

    with pytest.raises(RuntimeError, match="killed halfway"):
        db.replace_faces(exploding(), {}, {}, "faces/v2")
    assert db.faces() == before
    assert db.stage_runs()["face_detections"].stats == {"faces": 3}


def test_stages_chain_by_tokens(db: MovieDB) -> None:
    assert db.stale_stages() == ["face_embeddings", "face_clusters"]
    embed_and_cluster(db)
    assert db.stale_stages() == []
    runs = db.stage_runs()
    assert runs["face_detections"].input_token == runs["frames"].token
    assert runs["frames"].input_token == ""  # no fingerprint stored for this movie
    # New detections: what was made from the old ones is out of date.
    db.replace_faces([face(db.frames()[1].id, 0)], {}, {}, "faces/v2")
    assert db.stale_stages() == ["face_embeddings", "face_clusters"]
    assert db.folders() == {"frames/v1", "faces/v2"}


def test_identical_embeddings_and_people_keep_their_tokens(db: MovieDB) -> None:
    embed_and_cluster(db)
    before = db.stage_runs()
    embed_and_cluster(db)
    after = db.stage_runs()
    assert after["face_embeddings"].token == before["face_embeddings"].token
    assert after["face_clusters"].token == before["face_clusters"].token


def test_replacing_frames_drops_faces_and_people(db: MovieDB) -> None:
    embed_and_cluster(db)
    token = db.stage_runs()["frames"].token
    db.replace_frames([FrameRow(0, 0.0, "frames/v2/0.jpg", 64, 48)], {"fps": 2.0}, {},
                      "movie-1", "frames/v2")
    assert db.faces() == [] and db.people() == []
    assert [f.path for f in db.frames()] == ["frames/v2/0.jpg"]
    assert db.stage_runs()["frames"].token != token


def test_resampling_the_same_instants_keeps_faces_people_and_token(db: MovieDB) -> None:
    # A rerun of frames on an unchanged movie keeps its token (its data version), so detection
    # will not rerun: the faces and people must survive it, pointing at the new frame files.
    embed_and_cluster(db)
    faces, token = db.faces(), db.stage_runs()["frames"].token
    frame_ids = [f.id for f in db.frames()]
    again = [FrameRow(i, float(i), f"frames/v2/{i}.jpg", 64, 48, cut_distance=0.1 * i)
             for i in range(3)]
    db.replace_frames(again, {"fps": 1.0}, {"frames": 3}, "movie-1", "frames/v2")
    frames = db.frames()
    assert [f.id for f in frames] == frame_ids
    assert [f.path for f in frames] == [f"frames/v2/{i}.jpg" for i in range(3)]
    assert [f.cut_distance for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    assert db.faces() == faces and [p.face_count for p in db.people()] == [2]
    assert db.stage_runs()["frames"].token == token and db.stale_stages() == []


# the movie's folder ----------------------------------------------------------------------------
def published_folder(tmp_path: Path) -> MovieFolder:
    folder = MovieFolder(tmp_path / "m")
    with folder.writing("test") as draft:
        fill(draft.db)
        embed_and_cluster(draft.db)
        for kind in ("frames", "faces"):
            (folder.path / kind / "v1").mkdir(parents=True)
        draft.publish(write_main_page)
    return folder


def write_main_page(db: MovieDB, generation) -> None:
    (generation.staging / MAIN_PAGE).write_text(f"{len(db.people())} people")


def test_published_result_is_a_read_only_snapshot(tmp_path: Path) -> None:
    folder = published_folder(tmp_path)
    published = folder.published()
    assert folder.report_path.read_text() == "1 people"
    with folder.writing("test") as draft:
        draft.db.replace_people({}, [], {}, {})
    assert [p.person_id for p in published.people()] == [1]  # readers keep the old result
    with pytest.raises(StoreError, match="cannot be changed"), published.transaction():
        pass
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        sqlite3.connect(f"{published.db_path.as_uri()}?mode=ro", uri=True).execute(
            "DELETE FROM people")


def test_nothing_is_published_before_the_first_complete_result(tmp_path: Path) -> None:
    folder = MovieFolder(tmp_path / "m")
    with folder.writing("test") as draft:
        fill(draft.db)
        with pytest.raises(StoreError, match="face_embeddings, face_clusters missing"):
            draft.publish(write_main_page)
    with pytest.raises(NotPublishedError, match="no complete result yet"):
        folder.published()
    assert not folder.report_path.exists() and not (folder.path / "g").exists()


def test_publishing_prunes_only_what_nothing_points_at(tmp_path: Path) -> None:
    folder = published_folder(tmp_path)
    first = folder.published_generation()
    (folder.path / "faces" / "orphan").mkdir()  # a version a killed stage left
    with folder.writing("test") as draft:
        with draft.new_version("faces") as (path, relative):
            assert path.is_dir()
        draft.db.replace_faces([face(draft.db.frames()[0].id, 0)], {}, {}, relative)
        # The draft now points at the new faces, the published result at the old ones.
        assert {p.name for p in (folder.path / "faces").iterdir()} >= {"v1", path.name}
        with pytest.raises(StoreError, match="cannot be published"):
            draft.publish(write_main_page)
        embed_and_cluster(draft.db)
        second = draft.publish(write_main_page)
    assert second > first and folder.published_generation() == second
    assert {p.name for p in (folder.path / "faces").iterdir()} == {path.name}
    assert [p.name for p in (folder.path / "g").iterdir()] == [second]


def test_a_failed_stage_leaves_no_files(tmp_path: Path) -> None:
    folder = published_folder(tmp_path)
    with folder.writing("test") as draft, pytest.raises(RuntimeError), \
            draft.new_version("frames") as (path, _):
        (path / "0.jpg").write_bytes(b"x")
        raise RuntimeError("decoder failed")
    assert {p.name for p in (folder.path / "frames").iterdir()} == {"v1"}


def test_an_interrupted_publish_is_finished_by_the_next_writer(tmp_path: Path) -> None:
    folder = published_folder(tmp_path)
    folder.report_path.write_text("an older page")  # stopped between the switch and the page
    with folder.writing("test"):
        pass
    assert folder.report_path.read_text() == "1 people"


# one writer ------------------------------------------------------------------------------------
HOLD = """
import sys, time
from moviefaces_dag.store import MovieFolder
with MovieFolder(sys.argv[1]).writing("the test's other writer"):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_told_who_is_busy_and_a_killed_one_frees_the_movie(tmp_path: Path):
    folder = MovieFolder(tmp_path / "m")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder.path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(MovieBusyError) as busy, folder.writing("test"):
            pass
        assert f"movie m is already being processed by the test's other writer (pid " \
               f"{holder.pid}" in str(busy.value)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with folder.writing("test"):  # the kernel released the dead writer's lock
        pass


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    folder = MovieFolder(tmp_path / "m")
    with folder.writing("outer"), folder.writing("inner") as draft:
        draft.db.set_movie("m", "/m.mp4")
    assert folder.draft_db().movie().path == "/m.mp4"


# the output root ------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "key"), [
    ("東京物語", "東京物語"),
    ("七人の侍 (1954)", "七人の侍-1954"),
    ("Citizen Kane", "Citizen-Kane"),
    ("dagster_home", "dagster_home-movie"),
    ("Index.HTML", "Index.HTML-movie"),
    ("a\x1b]0;pwned\x07b", "a-0-pwned-b"),
    ("...", "movie"),
    ("..hidden", "hidden"),
])
def test_movie_keys_keep_readable_names(name: str, key: str) -> None:
    assert movie_key(name) == key


def test_registration_is_idempotent_and_keys_never_collide(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path / "out")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "Film.mp4").write_bytes(folder.encode())
    first = root.register(tmp_path / "a" / "Film.mp4")
    second = root.register(tmp_path / "b" / "Film.mp4")
    assert first == "Film" and second.startswith("Film-") and second != first
    assert root.register(tmp_path / "a" / "Film.mp4") == first
    assert sorted(root.movies()) == sorted([first, second])
    with pytest.raises(StoreError, match="'nope' is not registered"):
        root.folder("nope")


def test_a_moved_movie_keeps_its_key(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path / "out")
    movie = tmp_path / "film.mp4"
    movie.write_bytes(b"frames")
    key = root.register(movie)
    stat = movie.stat()
    with root.folder(key).writing("test") as draft:
        draft.db.update_movie(size=stat.st_size, mtime_ns=stat.st_mtime_ns, fingerprint="fp")
    moved = tmp_path / "archive" / "renamed.mp4"
    moved.parent.mkdir()
    movie.rename(moved)
    assert root.register(moved, hash_moves=False) == key
    assert root.folder(key).draft_db().movie().path == str(moved)


def test_registration_waits_its_turn(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path / "out")
    with root.registering():
        started = time.monotonic()
        other = subprocess.Popen([sys.executable, "-c", (
            "import sys; from moviefaces_dag.store import OutputRoot; "
            "print(OutputRoot(sys.argv[1]).register(sys.argv[2]))"),
            str(root.path), __file__], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert other.poll() is None  # waiting for the lock, not failing
    assert other.communicate(timeout=30)[0].strip() == "test_store"
    assert time.monotonic() - started >= 1.0
