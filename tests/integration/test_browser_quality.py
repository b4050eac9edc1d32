"""The suggestion quality page in headless Chromium: an administrator opens it from the
navigation bar, sees the calibration plot, the bars, the model in use and the retrains; axe-core
finds no serious or critical violation in Spanish, in English, with the tables open, and on the
page that refuses a bad period. A screenshot goes under test-output/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import RankerRun
from services import clock, user_admin
from tests import factories
from tests.integration.axe import describe, violations
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _seed(factory) -> None:
    now = clock.now()
    with factory() as session:
        admin = user_admin.create_user(
            session, "bea@example.org", "admin", "a-long-password", name="Bea"
        )
        uni = factories.organization(session, name="Universidad Aliada", kind="university")
        agency = factories.organization(session, name="Agencia Bilateral", kind="bilateral")
        school = factories.project(session, lines=["human_development", "social_inclusion"])
        buses = factories.project(session, lines=["sustainable_territory"])
        decisions = [
            (school, uni, 0.92, "accepted", 2),
            (school, agency, 0.74, "accepted", 20),
            (buses, uni, 0.71, "rejected", 45),
            (buses, agency, 0.55, "accepted", 80),
            (school, uni, 0.38, "rejected", 120),
            (buses, uni, 0.12, "rejected", 200),
        ]
        for project, org, score, status, days in decisions:
            factories.match(
                session,
                project,
                factories.offer(session, org=org),
                score=score,
                status=status,
                decided_at=now - timedelta(days=days),
            )
        session.add_all(
            [
                RankerRun(
                    trigger="weekly",
                    state="done",
                    created_at=now - timedelta(days=10),
                    finished_at=now - timedelta(days=10),
                    n_train_accepted=40,
                    n_train_rejected=90,
                    n_heldout_accepted=12,
                    n_heldout_rejected=30,
                    n_heldout_projects=9,
                    current_score=0.52,
                    candidate_score=0.58,
                    importance={"prior": 0.0085, "score": 0.0036, "text": 0.0019},
                    adopted=True,
                    reason="mejor en las decisiones reservadas",
                ),
                RankerRun(
                    trigger="admin",
                    requested_by_id=admin.id,
                    state="failed",
                    created_at=now - timedelta(days=1),
                    reason="the worker stopped",
                ),
            ]
        )
        session.commit()


def _axe_clean(page, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}:\n{describe(found)}"


def test_the_quality_page_reads_well_and_passes_axe(live_server, page):
    _seed(live_server.session_factory)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "bea@example.org")
    page.fill("input[name=password]", "a-long-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()

    page.get_by_role("link", name="Calidad de las sugerencias").first.click()
    page.wait_for_url(re.compile(r"/staff/quality"))
    assert page.get_by_role("heading", name="Qué tan buenas son las sugerencias").is_visible()
    page.select_option("select[name=period]", "all")
    with page.expect_navigation():
        page.get_by_role("button", name="Mostrar").click()
    assert page.locator("svg.plot circle.point").count() == 5  # 0.74 and 0.71 share a band
    assert page.locator("svg.plot line.diagonal").count() == 1
    assert page.locator("svg.bars rect.bar").count() >= 10
    assert page.get_by_text("Un ordenador aprendido, adoptado").is_visible()
    runs = page.locator("table.runs tbody tr")
    assert runs.count() == 2 and "No terminó" in runs.first.inner_text()
    assert "Adoptado" in runs.nth(1).inner_text()
    _axe_clean(page, "quality (es)")
    for summary in page.locator("details summary").all():
        summary.click()
    _axe_clean(page, "quality with its tables open (es)")
    screenshot(page, "staff-quality")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="How good are the suggestions").is_visible()
    assert page.get_by_text("Calibration: acceptance rate against score").is_visible()
    _axe_clean(page, "quality (en)")

    response = page.goto(live_server.url + "/staff/quality?period=forever")
    assert response.status == 400
    assert page.get_by_role("alert").inner_text().startswith("Unknown period")
    _axe_clean(page, "quality with a bad period (en)")
