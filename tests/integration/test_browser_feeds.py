"""The feeds page in headless Chromium: an administrator configures a feed pointing at the
local HTTP server, runs it, sees the run's counts, confirms an organisation reference and
opens the ally's "active here"; no serious accessibility violations; screenshots saved."""

from __future__ import annotations

import re

import pytest

from services import user_admin
from tests import factories
from tests.integration.axe import describe, violations
from tests.integration.conftest import screenshot
from tests.unit.feeds.feed_server import FeedServer

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def server(shared_feeds):
    running = FeedServer(shared_feeds).start()
    yield running
    running.stop()


def _axe_clean(page, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}:\n{describe(found)}"


def test_an_admin_configures_runs_and_maps_a_feed(live_server, page, server):
    with live_server.session_factory() as session:
        user_admin.create_user(session, "eva@example.org", "admin", "a-long-password", name="Eva")
        iaf = factories.organization(
            session, name="Fundación Interamericana", kind="bilateral", country="US"
        )
        iaf_id = iaf.id
    page.goto(live_server.url + "/staff/feeds")
    page.fill("input[name=email]", "eva@example.org")
    page.fill("input[name=password]", "a-long-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/staff/feeds"))
    assert page.get_by_role("heading", name="Fuentes externas").is_visible()
    _axe_clean(page, "/staff/feeds empty")

    # A bad query is refused beside its field; then the feed is saved.
    page.fill("input[name=name]", "IAF en Colombia")
    page.select_option("select[name=kind]", "iati")
    page.fill("input[name=url]", f"{server.url}/files/iati/iaf_colombia.xml")
    page.fill("textarea[name=query]", "[1]")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar fuente").click()
    assert page.locator("ul.errors", has_text="Escriba un objeto JSON.").is_visible()
    _axe_clean(page, "/staff/feeds with errors")
    page.fill("textarea[name=query]", "")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar fuente").click()
    row = page.locator("tr", has_text="IAF en Colombia").first
    assert row.is_visible() and "nunca ejecutada" in row.inner_text()

    # Run it now (in-process on the embedded default): the run's counts appear.
    with page.expect_navigation():
        row.get_by_role("button", name="Ejecutar ahora").click()
    run = page.locator("table.feed-runs tbody tr").first
    cells = run.locator("td").all_inner_texts()
    assert "terminada" in cells[2] and cells[3] == "387" and cells[9].endswith(" s")

    # The funder's reference waits for a decision: confirm it as the ally.
    mapping = page.locator("tr", has_text="Inter-American Foundation").first
    mapping.locator("select[name$=organization_id]").select_option(str(iaf_id))
    with page.expect_navigation():
        mapping.get_by_role("button", name="Guardar").click()
    assert page.get_by_text("Ninguna referencia espera una decisión.").is_visible()
    screenshot(page, "staff-feeds")

    page.goto(f"{live_server.url}/staff/allies/{iaf_id}")
    assert page.get_by_role("heading", name="Activo aquí (CO)").is_visible()
    assert page.locator("table.active-here tbody tr").count() == 50
    _axe_clean(page, "/staff/allies")
    screenshot(page, "staff-ally-active-here")
