"""The asset checks' findings on a real store with real faults in it."""

from __future__ import annotations

from pathlib import Path

from synthetic_store import build_movie

from moviefaces_dag.pipeline.result_checks import (
    broken_links,
    embedding_problems,
    missing_face_files,
    same_frame_people,
)
from moviefaces_dag.store import PersonRow


def test_good_results_pass_every_check(tmp_path: Path) -> None:
    movie = build_movie(tmp_path / "out")
    movie.publish()
    db = movie.folder.published()
    assert missing_face_files(movie.folder, db) == []
    assert embedding_problems(db, 16) == []
    assert same_frame_people(db) == []
    assert broken_links(movie.folder) == []


def test_each_fault_is_found_and_named(tmp_path: Path) -> None:
    movie = build_movie(tmp_path / "out")
    db = movie.draft
    faces = db.faces()
    movie.folder.file(faces[0].crop_path).unlink()
    assert missing_face_files(movie.folder, db) == [f"face {faces[0].id}: {faces[0].crop_path}"]
    assert embedding_problems(db, 128) == ["embeddings are 16 wide, the model gives 128"]
    # Two faces of frame 5 (identities a and b) put in one person.
    together = [f for f in faces if f.time == 5.0]
    db.replace_people({f.id: 1 for f in together}, [PersonRow(1, 2, 5.0, 5.0, together[0].id)],
                      {}, {})
    assert same_frame_people(db) == ["person 1 twice at 00:05"]


def test_a_page_pointing_at_a_missing_image_is_found(tmp_path: Path) -> None:
    movie = build_movie(tmp_path / "out")
    report = movie.publish()
    faces = movie.folder.published().faces()
    movie.folder.file(faces[3].crop_path).unlink()
    broken = broken_links(movie.folder)
    assert broken and all(faces[3].crop_path in b for b in broken)
    assert any(b.startswith("index.html: ") for b in broken) or report.is_file()
