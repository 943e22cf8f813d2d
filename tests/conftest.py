"""Shared fixtures: the test data folder (../shared/testdata or $MOVIEFACES_TESTDATA)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def testdata_dir() -> Path:
    return Path(os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    path = testdata_dir()
    if not path.is_dir():
        pytest.fail(f"test data not found at {path}; set MOVIEFACES_TESTDATA")
    return path


@pytest.fixture(scope="session")
def cast_a(testdata: Path) -> Path:
    return testdata / "movies" / "cast_a.mp4"


@pytest.fixture(scope="session")
def cast_a_truth(testdata: Path) -> dict:
    return json.loads((testdata / "movies" / "cast_a.json").read_text())
