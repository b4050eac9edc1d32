"""Owners, notes and "my work" in headless Chromium: assign a match to a colleague and to
oneself, write a note with a link and a mention, edit it, find the match on /staff/mine by
nearest deadline, make a calendar address; axe-core finds no serious or critical violation on
these pages. Screenshots of the notes thread and "my work" go under test-output/."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from models import NoteMention
from services import user_admin
from tests import factories
from tests.integration.axe import describe, violations
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _seed(factory) -> dict:
    with factory() as session:
        user_admin.create_user(
            session, "ana.gomez@example.org", "staff", "a-long-password", name="Ana Gómez"
        )
        user_admin.create_user(
            session, "luis@example.org", "staff", "a-long-password", name="Luis Pérez"
        )
        project = factories.project(session, title="Buses eléctricos para ladera")
        near = factories.offer(
            session, title="Clean transport fund", deadline=date.today() + timedelta(days=6)
        )
        far = factories.offer(
            session, title="Urban resilience call", deadline=date.today() + timedelta(days=50)
        )
        first = factories.match(session, project, far, score=0.7, status="shortlisted")
        second = factories.match(session, project, near, score=0.6, status="shortlisted")
        return {"far": first.id, "near": second.id, "project": project.id}


def _axe_clean(page, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}:\n{describe(found)}"


def _sign_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=email]", "ana.gomez@example.org")
    page.fill("input[name=password]", "a-long-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()


def test_assign_write_a_note_and_find_it_in_my_work(live_server, page):
    ids = _seed(live_server.session_factory)
    _sign_in(page, live_server.url)

    # From the project page, open a match and take it.
    page.goto(f"{live_server.url}/staff/projects/{ids['project']}")
    page.locator(f"#match-{ids['far']}").get_by_role("link", name="Responsable y notas").click()
    page.wait_for_url(re.compile(rf"/staff/matches/{ids['far']}"))
    assert page.get_by_text("Nadie está a cargo todavía.").is_visible()
    page.get_by_label("Responsable").select_option(label="Ana Gómez")
    with page.expect_navigation():
        page.get_by_role("button", name="Asignar").click()
    assert page.get_by_text("Se guardó el responsable.").is_visible()
    assert page.get_by_text("A cargo de Ana Gómez").is_visible()

    # A note with a link and a mention; the link is a link, the markup is text.
    page.get_by_label("Nueva nota").fill(
        "@luis revisa <b>los requisitos</b>: https://example.org/convocatoria"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Añadir la nota").click()
    note = page.locator("li.note").first
    assert note.get_by_role("link", name="https://example.org/convocatoria").is_visible()
    assert "<b>los requisitos</b>" in note.inner_text()
    note.locator("summary", has_text="Editar").click()
    note.get_by_label("Nota").fill("@luis revisa los requisitos: https://example.org/convocatoria")
    _axe_clean(page, "/staff/matches/<id> with the edit box open")
    with page.expect_navigation():
        note.get_by_role("button", name="Guardar la nota").click()
    assert "editada" in page.locator("li.note").first.inner_text()
    screenshot(page, "staff-notes-thread")
    with live_server.session_factory() as session:
        assert session.query(NoteMention).count() == 1  # Luis, told once (mail to files)

    # The other match too, from the API's sibling: the second one on the page.
    page.goto(f"{live_server.url}/staff/matches/{ids['near']}")
    page.get_by_label("Responsable").select_option(label="Ana Gómez")
    with page.expect_navigation():
        page.get_by_role("button", name="Asignar").click()

    # My work: nearest deadline first, in the navigation bar.
    page.get_by_role("link", name="Mi trabajo").first.click()
    page.wait_for_url(re.compile(r"/staff/mine"))
    rows = page.locator("table.mine-matches tbody tr")
    assert rows.count() == 2
    assert "Clean transport fund" in rows.nth(0).inner_text()
    assert "Urban resilience call" in rows.nth(1).inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Crear una dirección de calendario").click()
    address = page.get_by_label("Dirección del calendario").input_value()
    assert re.search(r"/calendar/[^/]+\.ics$", address)
    _axe_clean(page, "/staff/mine")
    screenshot(page, "staff-my-work")
    answer = page.request.get(address)
    assert answer.ok and "BEGIN:VCALENDAR" in answer.text()
    assert answer.text().count("BEGIN:VEVENT") == 2
