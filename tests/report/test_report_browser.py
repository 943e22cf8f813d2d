"""The report of cast_a in a real headless browser (Debian's chromium driven by Playwright).

Set-up: scripts/test-env/browser.sh installs /usr/bin/chromium (`make test` runs it).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from moviefaces_dag.store import MovieDB, OutputRoot

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DURATION = 40  # seconds of cast_a: 11 people, enough for every check and quick to process

from browser_pages import LOAD_ALL_IMAGES  # noqa: E402


@pytest.fixture(scope="session")
def cast_a_report(processed) -> tuple[Path, MovieDB, str]:
    """cast_a processed once a session (tests/cli/test_cli.py reads the same); only read here."""
    output = processed(("cast_a",), "--duration", str(DURATION)).out
    root = OutputRoot(output)
    (key,) = root.registered_keys()
    return output, root.folder(key).published(), key


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
    people = store.people()
    assert headings[:3] == [f"Person {p.person_id} #{n}" for n, p in enumerate(people[:3], 1)]


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
    box = page.locator("article.person svg.timeline").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 10  # visible, spans the card


def test_person_page_opens_from_its_link(cast_a_report, browse):
    open_page, _ = browse
    _, store, key = cast_a_report
    page = open_page(report_url(cast_a_report))
    second = store.people()[1].person_id  # the second most often seen, by its stable id
    page.click(f"#person-{second} a.person-link")
    page.wait_for_url(f"**/person-{second:03d}.html")
    assert page.locator("h1").inner_text() == f"Person {second}"
    grid = page.locator(".grid img")
    assert grid.count() == store.people()[1].face_count
    assert grid.first.get_attribute("loading") == "lazy"
    assert all(width > 0 for _, width in page.evaluate(LOAD_ALL_IMAGES))
    page.click("header a")  # back to the movie
    page.wait_for_url(f"**/index.html#person-{second}")


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


def test_a_face_opens_its_frame_with_the_box_and_the_moment(cast_a_report, browse):
    open_page, _ = browse
    output, store, key = cast_a_report
    page = open_page(report_url(cast_a_report))
    top = store.people()[0].person_id
    first = page.locator(f"#person-{top} ul.thumbs a.face").first
    time_text = first.locator("img").get_attribute("alt").rsplit(" ", 1)[1]
    first.click()
    page.wait_for_url("**/frame.html#*")
    assert page.locator("h1").inner_text() == f"Person {top} at {time_text}"
    frame = page.locator("#frame")
    page.wait_for_function("document.getElementById('frame').naturalWidth > 0")
    box = page.locator("#facebox")
    assert box.is_visible()
    shown, drawn = frame.bounding_box(), box.bounding_box()
    # The box lies inside the frame and is a plausible face (cast_a: 60-300 px of 1280).
    assert shown["x"] <= drawn["x"] and drawn["x"] + drawn["width"] <= shown["x"] + shown["width"]
    assert 0.02 < drawn["width"] / shown["width"] < 0.5
    play = page.locator("#play").get_attribute("href")
    assert play.startswith("file://") and "#t=" in play


def test_timeline_marks_and_thumbnails_are_small_files(cast_a_report, browse):
    open_page, seen = browse
    output, store, key = cast_a_report
    page = open_page(report_url(cast_a_report))
    page.evaluate(LOAD_ALL_IMAGES)
    thumbs = page.eval_on_selector_all("ul.thumbs img",
                                       "els => els.map(e => e.getAttribute('src'))")
    assert thumbs and all("/t/" in src for src in thumbs)
    sizes = [(output / key / src).stat().st_size for src in thumbs]
    assert max(sizes) < 20_000  # small files made once, not the crops
    marks = page.locator("article.person").first.locator("svg.timeline a")
    assert marks.count() == page.locator("article.person").first.locator(
        "svg.timeline rect.mark").count()
    marks.first.click()
    page.wait_for_url("**/frame.html#*")
    page.wait_for_function("document.getElementById('frame').naturalWidth > 0")

