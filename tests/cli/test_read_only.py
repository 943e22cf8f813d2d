"""Commands that only read work from the published results: on a read-only mount, and beside
a damaged draft (`work.sqlite`), whose published snapshot is intact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from commands import copy_of, moviefaces

pytestmark = pytest.mark.slow
KEY = "cast_b"


@pytest.fixture(scope="module")
def out(processed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of cast_b processed once a session (tests/pipeline/test_faults.py starts from the
    same)."""
    return copy_of(processed((KEY,), "--duration", "6").out, tmp_path_factory.mktemp("read"))


def read_everything(out: Path, movie: Path, elsewhere: Path) -> dict[str, str]:
    """Each read-only command's output (each must succeed)."""
    outputs = {}
    for name, command in {
        "people list (key)": ["people", "list", KEY],
        "people list (file)": ["people", "list", movie],
        "library list": ["library", "list", "--all"],
        "library export": ["library", "export", "--out", elsewhere / "library.jsonl"],
        "export": ["export", KEY, "--format", "jsonl", "--out", elsewhere / "dataset"],
    }.items():
        done = moviefaces(*command, "--output-dir", out)
        assert done.returncode == 0, (name, done.stderr)
        outputs[name] = done.stdout.replace(str(elsewhere), "ELSEWHERE")
    return outputs


def test_read_only_commands_work_on_a_read_only_mount(out: Path, tmp_path: Path,
                                                      testdata: Path) -> None:
    movie = testdata / "movies" / f"{KEY}.mp4"
    expected = read_everything(out, movie, tmp_path / "first")
    mount = tmp_path / "mount"
    mount.mkdir()
    bound = subprocess.run(["mount", "--bind", str(out), str(mount)], capture_output=True,
                           text=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({bound.stderr.strip()}): needs root")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        with pytest.raises(OSError):
            (mount / "probe").write_text("")
        assert read_everything(mount, movie, tmp_path / "second") == {
            name: text.replace(str(out), str(mount)) for name, text in expected.items()}
        refused = moviefaces("people", "name", KEY, "1", "Ann", "--output-dir", mount)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_commands_work_beside_a_damaged_draft(out: Path, tmp_path: Path,
                                                        testdata: Path) -> None:
    movie = testdata / "movies" / f"{KEY}.mp4"
    expected = read_everything(out, movie, tmp_path / "first")
    draft = out / KEY / "work.sqlite"
    kept = draft.read_bytes()
    try:
        draft.write_bytes(b"this is not a database" * 100)
        assert read_everything(out, movie, tmp_path / "second") == expected
    finally:
        draft.write_bytes(kept)
