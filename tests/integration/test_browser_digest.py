"""The digest preview in a real browser: the email framed under its own CSP, and one-click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.digest import subscriptions as digest_subs
from tests import digest_world
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_staff_preview_a_partners_digest_and_the_partner_unsubscribes(live_server, page):
    with live_server.session_factory() as session:
        world = digest_world.seed(session)
        digest_world.user(session, "carla@agency.example", password="a-long-password")

        token = digest_subs.unsubscribe_token(
            live_server.app.config["SECRET_KEY"], world.subs["partner_a"]
        )
    blocked = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "carla@agency.example")
    page.fill("input[name=password]", "a-long-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    page.goto(live_server.url + "/digest/subscriptions")
    page.get_by_role("row", name="partner-a@ally.example").get_by_role("link").click()
    assert page.get_by_role("heading", name="CoopMatch: 2 new matches this week").is_visible()
    frame = page.frame_locator("iframe")
    link = frame.get_by_role("link", name="Agua para barrios de ladera")
    assert link.is_visible()
    # The email's inline styles apply inside the frame (its own CSP allows them).
    assert "rgb(11, 83, 148)" in link.evaluate("e => getComputedStyle(e).color")
    assert not blocked, blocked
    screenshot(page, "digest-preview")

    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/digest/unsubscribe/{token}")
    page.get_by_role("button", name="Unsubscribe").click()
    # Wait for the answer page (is_visible() alone does not wait: flaky on a busy machine).
    expect(page.get_by_text("You are unsubscribed")).to_be_visible()
    screenshot(page, "digest-unsubscribed")
