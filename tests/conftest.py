"""Shared fixtures: the test data folder (../shared/testdata or $MOVIEFACES_TESTDATA)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser_pages import CHROMIUM, LAUNCH_ARGS

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


