"""Every keyboard shortcut of the review queue (web/static/staff.js) in headless Chromium:
j / k / ArrowDown / ArrowUp move, x selects, s shortlists, u undoes, a accepts, r opens the
reject box (Escape closes it, Enter submits the chosen reason), n opens the next page; keys
typed into a field are left alone."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from models import Match
from services import user_admin
from tests import factories

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _seed(factory) -> None:
    with factory() as session:
        user_admin.create_user(
            session, "keys@example.org", "staff", "a-long-password", language="en"
        )
        project = factories.project(session, title="Ciclorrutas de ladera")
        for n in range(55):  # a second page remains after two decisions
            factories.match(
                session,
                project,
                factories.offer(session, title=f"Offer {n:02d}"),
                score=round(0.9 - n / 100, 2),
            )


def _current(page) -> int:
    return int(page.locator("tr.match-row.current").get_attribute("data-match-id"))


def _ids(page) -> list[int]:
    return [
        int(i)
        for i in page.locator("tr.match-row").evaluate_all(
            "rows => rows.map(r => r.dataset.matchId)"
        )
    ]


def _status(factory, match_id: int) -> str:
    with factory() as session:
        return session.scalar(sa.select(Match.status).where(Match.id == match_id)).value


def test_every_queue_shortcut(live_server, page):
    factory = live_server.session_factory
    _seed(factory)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "keys@example.org")
    page.fill("input[name=password]", "a-long-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()  # the browser asks for Spanish
    page.goto(live_server.url + "/staff/queue")
    ids = _ids(page)
    assert len(ids) == 50 and _current(page) == ids[0]
    page.locator("h1").click()

    # Moving: j and ArrowDown go down, k and ArrowUp go up, never past the ends.
    for key, expected in (("j", 1), ("ArrowDown", 2), ("k", 1), ("ArrowUp", 0), ("k", 0)):
        page.keyboard.press(key)
        assert _current(page) == ids[expected], key

    # Keys typed into a field are text, not shortcuts.
    page.locator("#bulk-note").fill("")
    page.locator("#bulk-note").press("j")
    assert _current(page) == ids[0] and page.locator("#bulk-note").input_value() == "j"
    page.locator("h1").click()

    # x selects the current match for bulk rejection, and again unselects it.
    box = page.locator(f"#match-{ids[0]} input.js-select")
    page.keyboard.press("x")
    assert box.is_checked() and page.locator(".js-selected-count").inner_text() == "1 ✓"
    page.keyboard.press("x")
    assert not box.is_checked() and page.locator(".js-selected-count").inner_text() == ""

    # s shortlists the current match; u undoes it from the banner.
    with page.expect_navigation():
        page.keyboard.press("s")
    assert page.get_by_text(f"Match {ids[0]} shortlisted.").is_visible()
    assert _status(factory, ids[0]) == "shortlisted"
    with page.expect_navigation():
        page.keyboard.press("u")
    assert page.get_by_text("1 decision undone.").is_visible()
    assert _status(factory, ids[0]) == "proposed"

    # a accepts the current (first) match: an alliance starts and it leaves the queue.
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.get_by_text(re.compile(rf"Match {ids[0]} accepted")).is_visible()
    assert _status(factory, ids[0]) == "accepted"

    # r opens the reject box with the reason focused; Escape closes it; Enter submits it.
    first = _ids(page)[0]
    page.locator("h1").click()
    page.keyboard.press("r")
    reason = page.locator(f"#reason-{first}")
    assert page.locator(f"#match-{first} details.js-reject-box").get_attribute("open") is not None
    assert reason.evaluate("el => el === document.activeElement")
    page.keyboard.press("Escape")
    assert page.locator(f"#match-{first} details.js-reject-box").get_attribute("open") is None
    assert _current(page) == first
    page.keyboard.press("r")
    reason.select_option("duplicate")
    reason.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text(f"Match {first} rejected.").is_visible()
    assert _status(factory, first) == "rejected"

    # n opens the next page of the queue.
    remaining = _ids(page)
    page.locator("h1").click()
    with page.expect_navigation():
        page.keyboard.press("n")
    assert "after=" in page.url
    assert not set(_ids(page)) & set(remaining)
