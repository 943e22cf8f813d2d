"""The people editor in a real browser (Debian's chromium through Playwright) on cast_a and
cast_b: each action by clicking (and one by keys only) shows at once, reaches the static
report, the library and `moviefaces people list` once the background persist settles, and is
undone; after every step every page's links and images resolve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser_pages import LOAD_ALL_IMAGES
from commands import copy_of

from moviefaces_dag.cli import main
from moviefaces_dag.editor.server import Running, serve_in_thread
from moviefaces_dag.editor.views import library_people, movie_state
from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow
NAME = 'Anna <b>Lind</b> & "x"'
# Every link's address (SVG links too: their href is an object), resolved.
HREFS = """els => els.map(e => new URL(e.getAttribute('href') || e.getAttribute('xlink:href'),
                                    document.baseURI).href)"""


@pytest.fixture(scope="module")
def site(processed, tmp_path_factory) -> Iterator[Running]:
    """The editor on a copy of cast_a and cast_b processed once a session
    (tests/people/test_decision_faults.py starts from the same)."""
    out = copy_of(processed(("cast_a", "cast_b"), "--duration", "20").out,
                  tmp_path_factory.mktemp("editor_browser"))
    running = serve_in_thread(out, "browser-test-token")
    yield running
    running.stop()


@pytest.fixture()
def editor(browser, site: Running):
    """(open a path of the editor, the context); every request stays on the editor."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: seen.append(request.url))
    page.goto(site.url)  # the printed address: sets the session cookie

    def open_path(path: str):
        response = page.goto(site.base + path)
        assert response.status == 200, path
        return page

    yield open_path, context
    context.close()
    assert all(url.startswith(site.base) or url.startswith("file://") for url in seen), seen


def root(site: Running) -> OutputRoot:
    return site.editor.root


def settle(site: Running, context) -> None:
    assert site.editor.wait(300)
    status = context.request.get(site.base + "/status").json()
    assert status["settled"], status
    problems = [s["message"] for s in [*status["movies"].values(), status["library"]]
                if s and s["state"] in ("error", "queued")]
    assert not problems, problems


def act(page, do) -> None:
    """Do something that records a decision; wait until the page shows its effect."""
    with page.expect_navigation():
        do()
    assert page.locator("#message").get_attribute("class") == "message ok", \
        page.locator("#message").inner_text()


def check_pages(site: Running, context, key: str) -> None:
    """Every editor page of the movie and the library: 200, images load, same-origin links
    200; then the static report and library pages: images load, file links exist."""
    page = context.new_page()
    state = movie_state(root(site), key)
    paths = ["/", "/library/history", f"/movie/{key}", f"/movie/{key}/unassigned",
             f"/movie/{key}/hidden", f"/movie/{key}/history",
             *(f"/movie/{key}/person/{p.id}" for p in [*state.people, *state.hidden])]
    checked: set[str] = set()
    for path in paths:
        assert page.goto(site.base + path).status == 200, path
        broken = [src for src, width in page.evaluate(LOAD_ALL_IMAGES) if width == 0]
        assert not broken, (path, broken[:3])
        for href in page.eval_on_selector_all("a[href]", HREFS):
            link = href.split("#")[0]
            if link.startswith(site.base) and link not in checked:
                checked.add(link)
                assert context.request.get(link).status == 200, (path, link)
    out = root(site).path
    static = [(out / "index.html").as_uri(), (out / key / "index.html").as_uri()]
    seen_files: set[str] = set()
    while static:
        url = static.pop()
        if url in seen_files:
            continue
        seen_files.add(url)
        page.goto(url)
        broken = [src for src, width in page.evaluate(LOAD_ALL_IMAGES) if width == 0]
        assert not broken, (url, broken[:3])
        for href in page.eval_on_selector_all("a[href]", HREFS):
            parts = urlsplit(href)
            if parts.scheme != "file":
                continue
            target = Path(unquote(parts.path))
            assert target.exists(), (url, href)
            if target.suffix == ".html" and target.name != "frame.html" and (
                    target.is_relative_to(out / key) or target.parent == out):
                static.append(target.as_uri())
    page.close()


def static_people(site: Running, context, key: str) -> dict[int, tuple[int, str]]:
    """The static report's people: id -> (faces, heading)."""
    page = context.new_page()
    page.goto((root(site).path / key / "index.html").as_uri())
    found = page.eval_on_selector_all(
        "article.person", "els => els.map(e => [+e.dataset.personId, +e.dataset.faceCount, "
        "e.querySelector('h3').textContent])")
    page.close()
    return {pid: (count, heading) for pid, count, heading in found}


def people_list(capsys, site: Running, key: str) -> str:
    capsys.readouterr()
    assert main(["people", "list", key, "--output-dir", str(root(site).path)]) == 0
    return capsys.readouterr().out


def undo(page) -> None:
    act(page, lambda: page.click('button[data-post$="/undo"]'))


def test_name_a_person(site, editor, capsys) -> None:
    open_path, context = editor
    person = movie_state(root(site), "cast_a").people[0]
    page = open_path(f"/movie/cast_a/person/{person.id}")
    page.fill("#name", NAME)
    act(page, lambda: page.press("#name", "Enter"))
    assert page.locator("h1").inner_text() == NAME
    settle(site, context)
    assert NAME in static_people(site, context, "cast_a")[person.id][1]
    assert NAME in people_list(capsys, site, "cast_a")
    check_pages(site, context, "cast_a")
    suggested = page.eval_on_selector_all("#names option", "els => els.map(e => e.value)")
    assert NAME in suggested  # suggested from now on, everywhere
    undo(page)
    assert page.locator("h1").inner_text() == f"Person {person.id}"
    settle(site, context)
    assert NAME not in people_list(capsys, site, "cast_a")
    check_pages(site, context, "cast_a")


def test_merge_two_people_and_undo(site, editor) -> None:
    open_path, context = editor
    state = movie_state(root(site), "cast_a")
    grouping = state.grouping
    first, other = next((a, b) for a in state.people for b in state.people
                        if a.id != b.id and not grouping.frames_of(a.id) & grouping.frames_of(b.id))
    before = static_people(site, context, "cast_a")
    page = open_path(f"/movie/cast_a/person/{first.id}")
    page.select_option('#merge-form select[name="other"]', str(other.id))
    act(page, lambda: page.click("#merge-form button"))
    assert page.locator("button.face").count() == len(first.faces) + len(other.faces)
    settle(site, context)
    after = static_people(site, context, "cast_a")
    assert other.id not in after and after[first.id][0] == len(first.faces) + len(other.faces)
    check_pages(site, context, "cast_a")
    undo(page)
    settle(site, context)
    assert static_people(site, context, "cast_a") == before  # both ids are back
    check_pages(site, context, "cast_a")


def test_move_three_faces_to_a_new_person_and_undo(site, editor) -> None:
    open_path, context = editor
    person = next(p for p in movie_state(root(site), "cast_a").people if len(p.faces) >= 4)
    before = {p.id for p in movie_state(root(site), "cast_a").people}
    page = open_path(f"/movie/cast_a/person/{person.id}")
    for face in page.locator("button.face").all()[:3]:
        face.click()
    assert page.locator("#selected-count").inner_text() == "3"
    page.select_option("#move-to", "new")
    act(page, lambda: page.click("#move-form button"))
    assert page.locator("button.face").count() == len(person.faces) - 3
    (new,) = [p for p in movie_state(root(site), "cast_a").people if p.id not in before]
    assert len(new.faces) == 3
    settle(site, context)
    assert static_people(site, context, "cast_a")[new.id][0] == 3
    check_pages(site, context, "cast_a")
    undo(page)
    settle(site, context)
    assert new.id not in static_people(site, context, "cast_a")
    assert static_people(site, context, "cast_a")[person.id][0] == len(person.faces)
    check_pages(site, context, "cast_a")


def test_reject_two_faces_and_undo(site, editor) -> None:
    open_path, context = editor
    person = movie_state(root(site), "cast_b").people[0]
    page = open_path(f"/movie/cast_b/person/{person.id}")
    rejected = [int(b.get_attribute("data-face-id")) for b in page.locator("button.face").all()[:2]]
    for face_id in rejected:
        page.click(f'button.face[data-face-id="{face_id}"]')
    act(page, lambda: page.click("#reject"))
    assert page.locator("button.face").count() == len(person.faces) - 2
    unassigned = open_path("/movie/cast_b/unassigned")
    assert all(unassigned.locator(f'[data-face-id="{f}"]').count() == 0 for f in rejected)
    settle(site, context)
    assert static_people(site, context, "cast_b")[person.id][0] == len(person.faces) - 2
    check_pages(site, context, "cast_b")
    page = open_path(f"/movie/cast_b/person/{person.id}")
    undo(page)
    settle(site, context)
    assert static_people(site, context, "cast_b")[person.id][0] == len(person.faces)
    check_pages(site, context, "cast_b")


def test_hide_a_person_and_undo(site, editor) -> None:
    open_path, context = editor
    person = movie_state(root(site), "cast_b").people[-1]
    page = open_path(f"/movie/cast_b/person/{person.id}")
    act(page, lambda: page.click("#hide"))
    assert open_path("/movie/cast_b").locator(f"#person-{person.id}").count() == 0
    assert open_path("/movie/cast_b/hidden").locator(f"#person-{person.id}").count() == 1
    settle(site, context)
    published = root(site).folder("cast_b").published()
    assert {p.person_id for p in published.people() if p.hidden} == {person.id}
    check_pages(site, context, "cast_b")
    page = open_path("/movie/cast_b")
    undo(page)
    assert page.locator(f"#person-{person.id}").count() == 1
    settle(site, context)
    assert not any(p.hidden for p in root(site).folder("cast_b").published().people())
    check_pages(site, context, "cast_b")


def test_withdraw_from_the_history_page(site, editor, capsys) -> None:
    open_path, context = editor
    first, second = movie_state(root(site), "cast_b").people[:2]
    for person, name in ((first, "Kept Name"), (second, "Withdrawn Name")):
        named = open_path(f"/movie/cast_b/person/{person.id}")
        named.fill("#name", name)
        act(named, lambda page=named: page.press("#name", "Enter"))
    page = open_path("/movie/cast_b/history")
    row = page.locator("tr[data-state=applied]").filter(has_text="Withdrawn Name")
    decision = row.get_attribute("id")
    act(page, lambda: row.locator("button").click())
    assert page.locator(f"#{decision}").get_attribute("data-state") == "withdrawn"
    settle(site, context)
    listed = people_list(capsys, site, "cast_b")
    assert "Kept Name" in listed and "Withdrawn Name" not in listed
    check_pages(site, context, "cast_b")


def test_link_people_across_movies_and_undo(site, editor, capsys) -> None:
    open_path, context = editor
    library = {(m.movie, m.person_id): p.id for p in library_people(root(site))
               for m in p.members}
    a = movie_state(root(site), "cast_a").people[0].id
    b = next(p.id for p in movie_state(root(site), "cast_b").people
             if library.get(("cast_b", p.id)) != library.get(("cast_a", a)))
    page = open_path(f"/movie/cast_a/person/{a}")
    page.select_option('#link-form select[name="other_ref"]', f"cast_b|{b}")
    act(page, lambda: page.click("#link-form button"))
    settle(site, context)
    capsys.readouterr()
    assert main(["library", "list", "--all", "--output-dir", str(root(site).path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(f"cast_a:{a}" in line and f"cast_b:{b}" in line for line in lines), lines
    card = open_path("/").locator("article.libperson").filter(
        has=page.locator(f'a[href="/movie/cast_a/person/{a}"]'))
    assert card.locator(f'a[href="/movie/cast_b/person/{b}"]').count() == 1
    check_pages(site, context, "cast_a")
    page = open_path("/")
    undo(page)
    settle(site, context)
    capsys.readouterr()
    main(["library", "list", "--all", "--output-dir", str(root(site).path)])
    lines = capsys.readouterr().out.splitlines()
    assert not any(f"cast_a:{a}" in line and f"cast_b:{b}" in line for line in lines), lines
    check_pages(site, context, "cast_a")


def test_keyboard_only_select_reject_and_undo(site, editor) -> None:
    open_path, context = editor
    person = next(p for p in movie_state(root(site), "cast_a").people if len(p.faces) >= 3)
    page = open_path(f"/movie/cast_a/person/{person.id}")
    for _ in range(80):  # Tab to the first face
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('face')"):
            break
    else:
        pytest.fail("Tab never reached a face")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.locator('button.face[aria-pressed="true"]').count() == 2
    act(page, lambda: page.keyboard.press("r"))
    assert page.locator("button.face").count() == len(person.faces) - 2
    act(page, lambda: page.keyboard.press("u"))
    assert page.locator("button.face").count() == len(person.faces)
    settle(site, context)
    assert static_people(site, context, "cast_a")[person.id][0] == len(person.faces)
    check_pages(site, context, "cast_a")
