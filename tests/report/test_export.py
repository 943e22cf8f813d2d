"""Dataset export from a real store: person folders, YOLO, JSON lines, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from synthetic_store import HEIGHT, WIDTH, build_movie

from moviefaces_dag.cli import main
from moviefaces_dag.report.export import (
    MANIFEST,
    ExportError,
    default_export_dir,
    export_dataset,
    montage,
)


@pytest.fixture()
def movie(tmp_path: Path):
    movie = build_movie(tmp_path / "out")
    movie.publish()
    return movie


def test_folders_hold_portrait_crops_and_a_montage(movie, tmp_path: Path):
    out = tmp_path / "folders"
    result = export_dataset(movie.folder, out, "folders")
    assert result["people"] == 4 and result["faces"] == 25 and result["unassigned"] == 1
    counts = {}
    for folder in sorted(out.iterdir()):
        if folder.is_dir():
            counts[folder.name] = len([p for p in folder.glob("*.jpg") if p.name != "montage.jpg"])
    # Folders by the people's ids (as in the report); people.json says who is who.
    assert counts == {"person_003": 10, "person_001": 7, "person_004": 4, "person_002": 3,
                      "unassigned": 1}
    people = json.loads((out / "people.json").read_text())
    assert people["person_003"] == {"id": 3, "rank": 1, "name": None, "library_id": None}
    crop = cv2.imread(str(next((out / "person_003").glob("00000.00s_face*.jpg"))))
    # Face box 60x80 at (20, 40); margins 0.45 w at the sides (27 px, the left one clipped at
    # the frame edge), 0.6 h above (48 px, clipped), 0.9 h below (72 px).
    assert crop.shape[:2] == (40 + 80 + 72, 20 + 60 + 27)
    assert crop.shape[0] > crop.shape[1]  # portrait
    sheet = cv2.imread(str(out / "person_003" / "montage.jpg"))
    assert sheet.shape[:2] == (3 * 128, 4 * 128)  # 10 faces: 4 columns, 3 rows
    assert json.loads((out / MANIFEST).read_text())["format"] == "folders"


def test_montage_holds_at_most_25_faces():
    faces = [np.full((50, 40, 3), n, np.uint8) for n in range(30)]
    sheet = montage(faces, tile=10)
    assert sheet.shape == (50, 50, 3)
    assert sheet[45, 45, 0] == 24  # the 25th face fills the last tile


def test_yolo_labels_are_normalised_boxes_by_person_rank(movie, tmp_path: Path):
    out = tmp_path / "yolo"
    result = export_dataset(movie.folder, out, "yolo")
    # Classes by rank (most faces first), named by the people's ids.
    assert (out / "classes.txt").read_text().split() == [
        "person_003", "person_001", "person_004", "person_002"]
    # 20 frames, the one with the unassigned face (19) is left out
    assert result["images"] == 19 and result["frames_skipped_unassigned"] == 1
    assert sorted(p.stem for p in (out / "images").iterdir()) == [f"{i:06d}" for i in range(19)]
    lines = (out / "labels" / "000005.txt").read_text().splitlines()
    assert len(lines) == 2  # persons 1 and 2 share frames 5-9
    first = [float(v) for v in lines[0].split()]
    assert first[0] == 0
    assert first[1:] == pytest.approx([50 / WIDTH, 80 / HEIGHT, 60 / WIDTH, 80 / HEIGHT], abs=1e-6)
    assert lines[1].split()[0] == "1"
    assert (out / "labels" / "000012.txt").read_text().split()[0] == "2"
    assert 'names:\n  0: "person_003"\n' in (out / "data.yaml").read_text()


def test_jsonl_has_people_faces_and_embedding_rows(movie, tmp_path: Path):
    out = tmp_path / "jsonl"
    export_dataset(movie.folder, out, "jsonl")
    lines = [json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()]
    people = [line for line in lines if line["type"] == "person"]
    faces = [line for line in lines if line["type"] == "face"]
    assert [p["count"] for p in people] == [10, 7, 4, 3]
    assert [(p["id"], p["rank"], p["name"], p["library_id"]) for p in people] == [
        (3, 1, None, None), (1, 2, None, None), (4, 3, None, None), (2, 4, None, None)]
    assert people[1]["appearances"] == [float(t) for t in range(5, 12)]
    assert (people[1]["first_seen"], people[1]["last_seen"]) == (5.0, 11.0)
    assert all((out / p["best_face"]).is_file() for p in people)
    assert len(faces) == 25 and sum(f["person"] is None for f in faces) == 1
    matrix = np.load(out / "embeddings.npy")
    ids, stored, model = movie.draft.embeddings()
    face = faces[3]
    assert face["embedding"]["model"] == model == "sface-test"
    np.testing.assert_array_equal(matrix[face["embedding"]["row"]],
                                  stored[ids.index(face["id"])])
    stored_norm = {f.id: f.embedding_norm for f in movie.draft.faces()}[face["id"]]
    assert 6.0 <= face["embedding"]["norm"] == stored_norm <= 12.0
    assert len(face["landmarks"]) == 5 and len(face["box"]) == 4
    assert (out / face["image"]).is_file()


def test_export_replaces_its_own_output_but_not_foreign_folders(movie, tmp_path: Path):
    out = tmp_path / "again"
    export_dataset(movie.folder, out, "jsonl")
    (out / "stale.txt").write_text("from an older export")
    export_dataset(movie.folder, out, "yolo")
    assert not (out / "stale.txt").exists() and (out / "classes.txt").is_file()
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"mine")
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(movie.folder, foreign, "folders")
    assert (foreign / "holiday.jpg").read_bytes() == b"mine"
    assert not list(tmp_path.glob(".*tmp-*"))


def test_unprocessed_movie_is_refused(tmp_path: Path):
    movie = build_movie(tmp_path / "out")  # processed, never published
    with pytest.raises(ExportError, match="has no complete result yet; run `moviefaces run`"):
        export_dataset(movie.folder, tmp_path / "x", "jsonl")
    with pytest.raises(ExportError, match="unknown export format"):
        export_dataset(movie.folder, tmp_path / "x", "csv")


def test_cli_exports_by_movie_path(movie, capsys):
    movie_path = movie.draft.movie().path
    code = main(["export", movie_path, "--output-dir", str(movie.output_dir), "--format", "yolo"])
    assert code == 0
    out = default_export_dir(movie.folder, "yolo")
    assert str(out) in capsys.readouterr().out
    assert len(list((out / "labels").glob("*.txt"))) == 19


def test_cli_explains_an_unknown_movie(movie, tmp_path: Path, capsys):
    code = main(["export", str(tmp_path / "never.mp4"), "--output-dir", str(movie.output_dir)])
    assert code == 1
    assert "has not been processed in" in capsys.readouterr().err
    code = main(["export", "x.mp4", "--output-dir", str(tmp_path / "empty")])
    assert code == 1
    assert "run `moviefaces run x.mp4` first" in capsys.readouterr().err


def test_names_and_library_ids_reach_every_format(movie, tmp_path: Path):
    with movie.folder.writing("test") as draft:
        people = draft.db.people()
        assignments = {f.id: f.person_id for f in draft.db.faces()}
        draft.db.replace_people(assignments, people, {}, {}, names={3: "Ann <b>", 1: "Bo"})
    movie.publish()
    library = {("film", 3): 41}
    out = tmp_path / "jsonl"
    export_dataset(movie.folder, out, "jsonl", library)
    person = next(json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()
                  if '"person"' in line and '"id": 3' in line)
    assert (person["name"], person["library_id"]) == ("Ann <b>", 41)
    export_dataset(movie.folder, tmp_path / "yolo", "yolo", library)
    assert (tmp_path / "yolo" / "classes.txt").read_text().splitlines()[:2] == ["Ann <b>", "Bo"]
    export_dataset(movie.folder, tmp_path / "folders", "folders", library)
    named = json.loads((tmp_path / "folders" / "people.json").read_text())["person_003"]
    assert named == {"id": 3, "rank": 1, "name": "Ann <b>", "library_id": 41}
