"""An output folder made by the last release (one `moviefaces.sqlite` for every movie, absolute
paths) is upgraded on first open to a store per movie, losing nothing. The old folder is made
by the old code itself, taken from this repository's history."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from moviefaces_dag.pipeline.outputs import open_output
from moviefaces_dag.store import OutputRoot
from moviefaces_dag.store.upgrade import LEGACY_NAME, MIGRATED_NAME

REPO = Path(__file__).resolve().parents[2]
LAST_SINGLE_FILE_RELEASE = "d59f054"  # the last commit whose store was one file
MOVIES = ("cast_a", "cast_b")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def legacy_output(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    code = tmp_path_factory.mktemp("legacy_code")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", LAST_SINGLE_FILE_RELEASE,
                              "moviefaces_dag"], capture_output=True)
    if archive.returncode != 0:
        shallow = subprocess.run(["git", "-C", str(REPO), "rev-parse",
                                  "--is-shallow-repository"], capture_output=True, text=True)
        reason = (f"needs this repository's history (commit {LAST_SINGLE_FILE_RELEASE}): "
                  f"{archive.stderr.decode().strip()}")
        # Only a shallow clone may lack the commit; anywhere else its absence is a defect.
        if shallow.stdout.strip() != "true":
            pytest.fail(reason)
        pytest.skip(reason)
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    out = tmp_path_factory.mktemp("legacy") / "out"
    env = {**{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
           "PYTHONPATH": str(code)}
    for name in MOVIES:
        done = subprocess.run(
            [sys.executable, "-m", "moviefaces_dag.cli", "run", testdata / "movies" / f"{name}.mp4",
             "--duration", "6", "--output-dir", str(out)],
            cwd=code, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    assert (out / LEGACY_NAME).is_file() and not (out / "cast_a" / "work.sqlite").exists()
    return out


def legacy_rows(db: Path, key: str) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        return {
            "people": conn.execute("SELECT person_id, face_count, first_seen, last_seen "
                                   "FROM people WHERE movie_key = ? ORDER BY person_id",
                                   (key,)).fetchall(),
            "faces": conn.execute("SELECT id, x, y, w, h, person_id, embedding FROM faces "
                                  "WHERE movie_key = ? ORDER BY id", (key,)).fetchall(),
        }
    finally:
        conn.close()


def test_an_old_output_folder_is_upgraded_losing_nothing(legacy_output: Path) -> None:
    before = {key: legacy_rows(legacy_output / LEGACY_NAME, key) for key in MOVIES}
    root = open_output(legacy_output)
    assert not (legacy_output / LEGACY_NAME).exists()
    assert (legacy_output / MIGRATED_NAME).is_file()  # kept beside, as it was
    assert root.registered_keys() == list(MOVIES)
    for key in MOVIES:
        folder = root.folder(key)
        db = folder.published()
        people = [(p.person_id, p.face_count, p.first_seen, p.last_seen) for p in db.people()]
        assert sorted(people) == before[key]["people"]
        faces = {f.id: f for f in db.faces()}
        _, matrix, _ = db.embeddings()
        assert sorted(faces) == [f[0] for f in before[key]["faces"]]
        assert matrix.shape[0] == len(faces)
        for face in faces.values():  # relative, and the files are still there
            assert not face.crop_path.startswith("/") and folder.file(face.crop_path).is_file()
        assert db.stale_stages() == [] and folder.draft_db().stale_stages() == []
        pages = [folder.report_path, *folder.path.glob("g/*/person-*.html")]
        assert not list(folder.path.glob("person-*.html"))  # the old layout's pages are gone
        for page in pages:
            for link in re.findall(r'(?:src|href)="([^"#:]+)["#]', page.read_text()):
                assert (page.parent / unquote(link)).exists(), (page, link)


def test_the_upgraded_folder_runs_on(legacy_output: Path, testdata: Path) -> None:
    open_output(legacy_output)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "moviefaces_dag.cli", "run", testdata / "movies" / "cast_b.mp4",
         "--duration", "6", "--output-dir", str(legacy_output), "--similarity-threshold", "0.3"],
        env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert OutputRoot(legacy_output).folder("cast_b").published_generation().startswith("000002")
