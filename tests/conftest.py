"""Shared fixtures: the test data folder (../shared/testdata or $MOVIEFACES_TESTDATA), movies
processed once a session for the modules that start from the same result, the browser."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_pages import CHROMIUM, LAUNCH_ARGS
from commands import moviefaces

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


@dataclass(frozen=True)
class Processed:
    out: Path  # the output folder
    runs: list[subprocess.CompletedProcess]  # each movie's `moviefaces run`


@pytest.fixture(scope="session")
def processed(tmp_path_factory: pytest.TempPathFactory, testdata: Path
              ) -> Callable[..., Processed]:
    """processed(names, *args): the movies `names` of testdata/movies, each processed in turn by
    `moviefaces run MOVIE *args` into one output folder. Made once a session for each request:
    processing takes tens of seconds, and several modules start from the same result. Read it in
    place; a test that changes it works on a copy (commands.copy_of)."""
    made: dict[tuple[tuple[str, ...], tuple[str, ...]], Processed] = {}

    def process(names: tuple[str, ...], *args: str) -> Processed:
        if (names, args) not in made:
            out = tmp_path_factory.mktemp("processed") / "out"
            runs = []
            for name in names:
                done = moviefaces("run", testdata / "movies" / f"{name}.mp4", *args,
                                  "--output-dir", out)
                assert done.returncode == 0, done.stderr
                runs.append(done)
            made[names, args] = Processed(out, runs)
        return made[names, args]

    return process


# The real report in a real browser (browser_pages.py: Debian's chromium through Playwright).
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run `bash scripts/test-env/browser.sh` (or make test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def browse(browser):
    """(page factory, list of every URL any page requested)."""
    seen: list[str] = []
    contexts = []

    def open_page(url: str, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: seen.append(request.url))
        page.goto(url)
        return page

    yield open_page, seen
    for context in contexts:
        context.close()
    offline = [url for url in seen if not url.startswith("file://")]
    assert not offline, f"the report requested the network: {offline[:5]}"
    assert seen  # the recorder saw at least the page itself


