"""The report of cast_a in a real headless browser (Debian's chromium driven by Playwright).

Set-up: scripts/test-env/browser.sh installs /usr/bin/chromium (`make test` runs it).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from moviefaces_dag.cli import main
from moviefaces_dag.store import MovieDB, OutputRoot

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
DURATION = 40  # seconds of cast_a: 11 people, enough for every check and quick to process

# Load every image (also lazy ones and those in closed <details>), then report naturalWidth.
LOAD_ALL_IMAGES = """async () => Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.decode().then(() => [img.getAttribute('src'), img.naturalWidth],
                             () => [img.getAttribute('src'), 0]);
}))"""


@pytest.fixture(scope="session")
def cast_a_report(cast_a: Path, tmp_path_factory) -> tuple[Path, MovieDB, str]:
    output = tmp_path_factory.mktemp("browser_out")
    assert main(["run", str(cast_a), "--output-dir", str(output),
                 "--duration", str(DURATION)]) == 0
    root = OutputRoot(output)
    (key,) = root.registered_keys()
    return output, root.folder(key).published(), key


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


def report_url(cast_a_report) -> str:
    output, _, key = cast_a_report
    return (output / key / "index.html").as_uri()


def test_people_in_descending_face_count_order(cast_a_report, browse):
    open_page, _ = browse
    _, store, key = cast_a_report
    page = open_page(report_url(cast_a_report))
    counts = page.eval_on_selector_all(
        "article.person", "els => els.map(e => +e.dataset.faceCount)")
    assert len(counts) >= 3
    assert counts == sorted(counts, reverse=True)
    assert counts == [p.face_count for p in store.people()]
    headings = page.eval_on_selector_all("article.person h3", "els => els.map(e => e.textContent)")
    assert headings[:3] == ["Person 1", "Person 2", "Person 3"]


def test_every_thumbnail_loads(cast_a_report, browse):
    open_page, seen = browse
    page = open_page(report_url(cast_a_report))
    page.click("details.run summary")
    images = page.evaluate(LOAD_ALL_IMAGES)
    people = page.locator("article.person").count()
    assert len(images) >= 2 * people  # portrait, cast strip and thumbnail rows
    broken = [src for src, width in images if width == 0]
    assert not broken, f"images that did not load: {broken[:5]}"
    assert sum(url.endswith(".jpg") for url in seen) >= len({src for src, _ in images})


def test_timeline_has_one_mark_per_appearance(cast_a_report, browse):
    open_page, _ = browse
    _, store, key = cast_a_report
    times: dict[int, set[float]] = defaultdict(set)
    for face in store.faces():
        if face.person_id is not None:
            times[face.person_id].add(face.time)
    page = open_page(report_url(cast_a_report))
    marks = page.eval_on_selector_all(
        "article.person",
        "els => els.map(e => [+e.dataset.personId, "
        "[...e.querySelectorAll('svg.timeline rect.mark')].map(r => +r.getAttribute('x'))])",
    )
    assert len(marks) == len(times)
    for person_id, xs in marks:
        assert xs == pytest.approx(sorted(times[person_id]), abs=0.01), person_id
    box = page.locator("#person-1 svg.timeline").bounding_box()
    assert box["width"] > 300 and box["height"] > 10  # visible, spans the card


def test_person_page_opens_from_its_link(cast_a_report, browse):
    open_page, _ = browse
    _, store, key = cast_a_report
    page = open_page(report_url(cast_a_report))
    page.click("#person-2 a.person-link")
    page.wait_for_url("**/person-002.html")
    assert page.locator("h1").inner_text() == "Person 2"
    grid = page.locator(".grid img")
    assert grid.count() == store.people()[1].face_count
    assert grid.first.get_attribute("loading") == "lazy"
    assert all(width > 0 for _, width in page.evaluate(LOAD_ALL_IMAGES))
    page.click("header a")  # back to the movie
    page.wait_for_url("**/index.html#person-2")


def test_library_page_links_the_movie(cast_a_report, browse):
    open_page, _ = browse
    output, _, key = cast_a_report
    page = open_page((output / "index.html").as_uri())
    assert page.locator("article.movie").count() == 1
    assert all(width > 0 for _, width in page.evaluate(LOAD_ALL_IMAGES))
    page.click("article.movie h2 a")
    page.wait_for_url(f"**/{key}/index.html")
    assert page.locator("article.person").count() >= 3


def test_screenshots_wide_and_phone(cast_a_report, browse):
    open_page, _ = browse
    ARTIFACTS.mkdir(exist_ok=True)
    for name, width in (("report_cast_a.png", 1280), ("report_cast_a_phone.png", 390)):
        page = open_page(report_url(cast_a_report), width=width, height=900)
        page.evaluate(LOAD_ALL_IMAGES)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{width} px wide: page scrolls sideways by {overflow} px"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        assert (ARTIFACTS / name).stat().st_size > 50_000
