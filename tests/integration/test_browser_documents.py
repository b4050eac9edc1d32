"""Call documents in headless Chromium: staff attach a PDF on the offer form, see its text
read, and anyone downloads it from the offer's public page; axe-core finds no serious or
critical violation on either page. Screenshots under test-output/screenshots."""

from __future__ import annotations

import re

import pytest

from services import user_admin
from tests import document_files, factories
from tests.integration.axe import describe, violations
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CALL = [
    "Convocatoria 2027: agua potable y saneamiento",
    "Acueductos comunitarios y cosecha de agua lluvia en barrios de ladera.",
]


def _seed(factory) -> int:
    with factory() as session:
        ally = factories.organization(session, name="Cooperación Alemana GIZ", country="DE")
        offer = factories.offer(
            session, org=ally, title="Fondo de resiliencia urbana", description="Apoyo general."
        )
        user_admin.create_user(session, "ana@example.org", "staff", "a-long-password")
        return offer.id


def _axe_clean(page, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}:\n{describe(found)}"


def test_staff_attach_a_call_document_and_the_public_downloads_it(live_server, page, tmp_path):
    offer_id = _seed(live_server.session_factory)
    pdf = tmp_path / "Términos de referencia.pdf"
    pdf.write_bytes(document_files.pdf([CALL]))

    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", "a-long-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()

    page.goto(live_server.url + f"/staff/moderation/{offer_id}/edit")
    assert page.get_by_text("Todavía no hay documentos adjuntos.").is_visible()
    page.set_input_files("input[name=file]", str(pdf))
    page.get_by_label("Mostrarlo en la página pública de oportunidades").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Adjuntar").click()
    assert page.url.endswith(f"/staff/moderation/{offer_id}/edit")
    row = page.locator("table.documents tbody tr")
    assert row.count() == 1
    assert "Términos de referencia.pdf" in row.inner_text()
    assert "Texto leído" in row.inner_text()  # the embedded default reads it at once
    assert "Todo el mundo (página pública)" in row.inner_text()
    screenshot(page, "documents-staff-offer-form")
    _axe_clean(page, "staff offer form with a document")

    # A refused file: the error beside the field, in Spanish, nothing attached.
    fake = tmp_path / "convocatoria.pdf"
    fake.write_bytes(document_files.docx(["No soy un PDF"]))
    page.set_input_files("input[name=file]", str(fake))
    with page.expect_navigation():
        page.get_by_role("button", name="Adjuntar").click()
    assert page.locator("#file-errors").inner_text().startswith("El nombre del archivo indica")
    assert page.locator("table.documents tbody tr").count() == 1
    _axe_clean(page, "staff offer page with a refused file")

    page.context.clear_cookies()  # signed out: what anyone sees
    page.goto(live_server.url + f"/opportunities/{offer_id}")
    link = page.get_by_role("link", name="Términos de referencia.pdf")
    assert link.is_visible()
    assert re.search(r"PDF, \d+ KB", page.locator("ul.documents").inner_text())
    screenshot(page, "documents-opportunity-page")
    _axe_clean(page, "opportunity page with documents")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == pdf.read_bytes()
    assert download.value.suggested_filename == "Términos de referencia.pdf"
