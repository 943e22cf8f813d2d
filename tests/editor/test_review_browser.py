"""The review page in a real browser: five questions answered with the keyboard alone, one
taken back with u, and the people change (and change back) as the answers say; "several
people" and "one person" by their keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from synthetic_store import build_movie

from moviefaces_dag.editor.server import Running, serve_in_thread
from moviefaces_dag.editor.views import movie_state
from moviefaces_dag.people.decisions import Decisions

pytestmark = pytest.mark.slow


@pytest.fixture()
def site(tmp_path) -> Iterator[tuple[Running, object]]:
    movie = build_movie(tmp_path / "out")
    movie.publish()
    running = serve_in_thread(movie.output_dir, "review-test-token")
    yield running, movie
    running.stop()


def people(running: Running, key: str) -> dict[int, int]:
    state = movie_state(running.editor.root, key)
    return {p.id: len(p.faces) for p in [*state.people, *state.hidden]}


def test_five_answers_by_keyboard_and_one_undone(browser, site) -> None:
    running, movie = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(running.url)
    before = people(running, movie.key)
    page.goto(f"{running.base}/movie/{movie.key}/review")
    seen = []
    for _ in range(5):
        seen.append(people(running, movie.key))
        kind = page.locator("#question").get_attribute("data-kind")
        assert page.locator(".review-faces img").count() >= 1
        offered = page.locator(".candidate").count()  # "is person N one person?": none
        with page.expect_navigation():
            page.keyboard.press(("1" if offered else "0") if kind == "who" else "n")
        assert page.locator("#message").get_attribute("class") == "message ok", \
            page.locator("#message").inner_text()
    assert len(Decisions(movie.folder.path).load()) == 5
    answered = people(running, movie.key)
    assert answered != before
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "undone" in page.locator("#message").inner_text()
    assert len(Decisions(movie.folder.path).load()) == 4
    assert people(running, movie.key) == seen[-1]  # as before the fifth answer
    context.close()
    assert running.editor.wait(300)


def test_several_people_parts_a_person_by_keyboard(browser, site) -> None:
    running, movie = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(running.url)  # the editor's address with its token
    page.goto(f"{running.base}/movie/{movie.key}/review")
    for _ in range(10):  # skip to a "who is person N?"
        if page.locator("#answer-several").count():
            break
        with page.expect_navigation():
            page.keyboard.press("s")
    assert "several people" in page.locator("#answer-several").inner_text()
    with page.expect_navigation():
        page.keyboard.press("m")
    assert "is several people" in page.locator("#message").inner_text()
    context.close()
    assert running.editor.wait(300)
    (several,) = Decisions(movie.folder.path).load()
    assert several["op"] == "apart" and several["person"] == several["other"]
    # the person is two people now, one side each (the sides' faces by place: times differ)
    state = movie_state(running.editor.root, movie.key)
    owner = {f.time: p.id for p in state.people for f in p.faces}
    sides = [{owner[place["time"]] for place in several[k]} for k in ("faces", "other_faces")]
    assert len(sides[0]) == len(sides[1]) == 1 and sides[0] != sides[1]


def test_one_person_confirms_a_person_by_keyboard(browser, site) -> None:
    running, movie = site
    before = people(running, movie.key)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(running.url)
    page.goto(f"{running.base}/movie/{movie.key}/review")
    for _ in range(12):  # skip to an "is person N one person?" (no one bigger to offer)
        if page.locator("#question").inner_text().startswith("Is person"):
            break
        with page.expect_navigation():
            page.keyboard.press("s")
    assert page.locator(".candidate").count() == 0
    assert "one person" in page.locator('[data-answer-key="0"]').inner_text()
    with page.expect_navigation():
        page.keyboard.press("0")
    assert page.locator("#message").get_attribute("class") == "message ok"
    context.close()
    assert running.editor.wait(300)
    (one,) = Decisions(movie.folder.path).load()
    assert one["op"] == "assign"  # the faces shown confirmed as the person's: nothing moves
    assert people(running, movie.key) == before
