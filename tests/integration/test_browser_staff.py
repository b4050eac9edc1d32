"""The staff workspace in headless Chromium: sign in, filter the queue, accept a match, see its
alliance on the board and its amount in the dashboard, reject with a reason, use the keyboard,
switch language. Saves screenshots of the queue and the dashboard under test-output/."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from models import Alliance
from services import user_admin
from tests import factories
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _explanation(terms):
    return {
        "terms": terms,
        "concepts": [],
        "en": ["shared terms: " + ", ".join(terms)],
        "es": ["términos en común: " + ", ".join(terms)],
    }


def _seed(factory):
    with factory() as session:
        user_admin.create_user(session, "ana@example.org", "staff", "a-long-password", name="Ana")
        uni = factories.organization(session, name="Universidad Aliada", kind="university")
        agency = factories.organization(session, name="Agencia Bilateral", kind="bilateral")
        school = factories.project(
            session, title="Comedores escolares saludables", lines=["human_development"]
        )
        buses = factories.project(
            session, title="Buses eléctricos para ladera", lines=["sustainable_territory"]
        )
        past = factories.project(session, title="Parques biblioteca", lines=["human_development"])
        food = factories.offer(
            session,
            org=uni,
            title="School nutrition grants",
            currency="USD",
            deadline=date.today() + timedelta(days=40),
        )
        mobility = factories.offer(
            session,
            org=agency,
            title="Clean transport fund",
            currency="USD",
            deadline=date.today() + timedelta(days=90),
        )
        factories.match(
            session, school, food, score=0.82, explanation=_explanation(["alimentación", "escolar"])
        )
        factories.match(session, school, mobility, score=0.41, explanation=_explanation(["ciudad"]))
        factories.match(
            session, buses, mobility, score=0.77, explanation=_explanation(["buses", "eléctricos"])
        )
        factories.match(session, buses, food, score=0.35, explanation=_explanation(["ladera"]))
        old = factories.match(
            session, past, food, score=0.0, status="accepted", matcher_version="historical"
        )
        session.add(
            Alliance(
                match_id=old.id,
                stage="closed",
                amount=1_000_000,
                currency="USD",
                usd_rate=1,
                started_on=date(2018, 4, 1),
            )
        )
        session.commit()


def _row(page, title):
    return page.locator("tr.match-row", has_text=title)


def test_review_accept_board_dashboard_reject_and_language(live_server, page):
    _seed(live_server.session_factory)
    page.goto(live_server.url + "/staff/queue")
    assert "/login" in page.url  # signed out: only the sign-in page
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", "a-long-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/staff/queue"))
    assert page.get_by_role("heading", name="Cola de revisión").is_visible()
    assert page.locator("tr.match-row").count() == 4

    # filter by thematic line
    page.select_option("select[name=line]", "human_development")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r"line=human_development"))
    assert page.locator("tr.match-row").count() == 2
    assert _row(page, "Clean transport fund").count() == 1
    first = page.locator("tr.match-row").first
    assert "School nutrition grants" in first.inner_text()  # best score first
    assert "términos en común: alimentación, escolar" in first.inner_text()
    screenshot(page, "staff-queue")

    # accept the best match: an alliance starts
    with page.expect_navigation():
        first.get_by_role("button", name="Aceptar").click()
    assert page.get_by_text(re.compile(r"aceptada: se inició una alianza")).is_visible()
    assert page.locator("tr.match-row").count() == 1

    # reject the other one with a reason
    row = _row(page, "Clean transport fund")
    row.locator("summary", has_text="Rechazar").click()
    row.locator("select[name=reason]").select_option("thematic_mismatch")
    row.locator("textarea[name=note]").fill("No es movilidad")
    with page.expect_navigation():
        row.get_by_role("button", name="Rechazar", exact=True).click()
    assert page.get_by_text(re.compile(r"Coincidencia \d+ rechazada")).is_visible()
    assert page.locator("tr.match-row").count() == 0

    # keyboard: the first row starts current; j / k move, s shortlists the current one
    page.goto(live_server.url + "/staff/queue")
    rows = page.locator("tr.match-row")
    assert rows.count() == 2 and "current" in rows.nth(0).get_attribute("class")
    page.locator("h1").click()
    page.keyboard.press("j")
    assert "current" in rows.nth(1).get_attribute("class")
    page.keyboard.press("k")
    assert "current" in rows.nth(0).get_attribute("class")
    with page.expect_navigation():
        page.keyboard.press("s")
    assert page.get_by_text(re.compile(r"Coincidencia \d+ preseleccionada")).is_visible()
    assert page.locator("span.badge", has_text="Preseleccionada").count() == 1

    # the alliance is on the board; set its amount
    page.get_by_role("link", name="Alianzas").first.click()
    column = page.locator("section.stage-negotiating")
    assert column.get_by_text("Comedores escolares saludables").is_visible()
    column.get_by_role("link", name="Comedores escolares saludables").click()
    page.fill("input[name=amount]", "500000")
    page.select_option("select[name=stage]", "formalised")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    card = page.locator("section.stage-formalised article", has_text="Comedores escolares")
    assert "USD 500.000" in card.inner_text()

    # the dashboard adds it to the historical million
    page.get_by_role("link", name="Tablero de resultados").first.click()
    assert page.get_by_text("USD 1.500.000").first.is_visible()
    assert page.locator("svg.bars rect.bar").count() > 10
    screenshot(page, "staff-dashboard")

    # switch language
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="What cooperation mobilised").is_visible()
    assert page.get_by_text("USD 1,500,000").first.is_visible()
    page.get_by_role("link", name="Review queue").first.click()
    assert page.get_by_role("heading", name="Review queue").is_visible()
