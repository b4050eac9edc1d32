"""The public opportunities pages in headless Chromium: search, filter, open an offer, ask for
emails; screenshots under test-output/screenshots; and axe-core finds no serious or critical
accessibility violation there, on the public offer form or on the staff review queue."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from services import user_admin
from tests import factories
from tests.integration.axe import describe, violations
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _seed(factory):
    with factory() as session:
        giz = factories.organization(
            session, name="Cooperación Alemana GIZ", kind="bilateral", country="DE"
        )
        uni = factories.organization(
            session, name="Universidad de Lund", kind="university", country="SE"
        )
        water = factories.offer(
            session,
            org=giz,
            title="Agua potable para barrios de ladera",
            description="Subvenciones para acueductos comunitarios en barrios de ladera.",
            modalities=["grant", "technical_assistance"],
            lines=["sustainable_territory"],
            sdgs=[6, 11],
            amount_min=50_000,
            amount_max=250_000,
            eligible_countries=["CO", "PE"],
            contact_email="agua@giz.example",
            contact_private=False,
            deadline=date.today() + timedelta(days=25),
        )
        factories.offer(
            session,
            org=uni,
            title="Educación inicial en comunas",
            description="Technical assistance for early childhood centres.",
            modalities=["technical_assistance"],
            lines=["human_development"],
            deadline=date.today() + timedelta(days=70),
        )
        factories.offer(session, org=uni, title="Becas de movilidad académica", deadline=None)
        project = factories.project(session, title="Acueductos veredales")
        factories.match(
            session,
            project,
            water,
            score=0.81,
            explanation={"terms": ["agua"], "es": ["agua"], "en": ["water"]},
        )
        user_admin.create_user(session, "ana@example.org", "staff", "a-long-password")
        return water.id


def test_search_filter_open_and_subscribe(live_server, page):
    water_id = _seed(live_server.session_factory)
    page.goto(live_server.url + "/opportunities")
    assert page.get_by_role("heading", name="Oportunidades de cooperación abiertas").is_visible()
    assert page.locator("li.opp").count() == 3
    screenshot(page, "opportunities-list")

    page.fill("input[name=q]", "agua")
    page.select_option("select[name=country]", "CO")
    with page.expect_navigation():
        page.get_by_role("button", name="Buscar").click()
    assert "q=agua" in page.url and "country=CO" in page.url
    assert page.locator("li.opp").count() == 1
    assert page.get_by_role("heading", name="1 oportunidad abierta").is_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Agua potable para barrios de ladera").click()
    assert page.url.endswith(f"/opportunities/{water_id}")
    assert page.get_by_role("heading", name="Cómo postular").is_visible()
    assert page.get_by_role("link", name="agua@giz.example").is_visible()
    assert "0.81" not in page.content() and "81" not in page.inner_text("main")
    screenshot(page, "opportunity-detail")

    page.go_back()
    page.fill("input[name=name]", "Agua en ladera")
    page.fill("input[name=email]", "lector@example.org")
    page.select_option("select[name=frequency]", "weekly")
    with page.expect_navigation():
        page.get_by_role("button", name="Suscribirse").click()
    assert page.get_by_role("heading", name="Revise su correo").is_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    page.goto(live_server.url + "/opportunities?line=human_development")
    assert page.get_by_role("heading", name="1 open opportunity").is_visible()
    screenshot(page, "opportunities-list-en")


def _axe_clean(page, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}:\n{describe(found)}"


def test_no_serious_accessibility_violations(live_server, page):
    water_id = _seed(live_server.session_factory)
    for path in (
        "/opportunities",
        "/opportunities?q=agua&closes_within=abc",  # with a field error shown
        f"/opportunities/{water_id}",
        "/offers/new",
    ):
        page.goto(live_server.url + path)
        _axe_clean(page, path)
    page.goto(live_server.url + "/offers/new")
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar la oferta").click()  # empty: errors shown
    _axe_clean(page, "/offers/new with errors")
    page.goto(live_server.url + "/opportunities")
    with page.expect_navigation():
        page.get_by_role("button", name="Suscribirse").click()  # empty: errors shown
    assert page.locator("ul.errors").count() >= 2
    _axe_clean(page, "/opportunities/alerts with errors")

    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", "a-long-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()
    page.goto(live_server.url + "/staff/queue")
    assert page.locator("tr.match-row").count() == 1
    _axe_clean(page, "/staff/queue")
    page.locator("tr.match-row summary").first.click()  # the reject box opened
    _axe_clean(page, "/staff/queue with the reject box open")
    page.goto(live_server.url + "/searches")
    _axe_clean(page, "/searches")
    assert re.search(r"Búsquedas guardadas", page.content())
