"""A partner sends an offer in a real browser, corrects it, then withdraws it from the email link."""

from __future__ import annotations

import re
from email import message_from_bytes

import pytest
import sqlalchemy as sa

from models import Offer
from models.enums import OfferStatus
from tests import factories as f
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def emailed_follow_path(app) -> str:
    """The path of the follow link in the one confirmation email the server wrote."""
    [path] = app.extensions["coopmatch"].settings.mail_dir.glob("*.eml")
    text = message_from_bytes(path.read_bytes()).get_payload(decode=True).decode()
    return re.search(r"https?://\S+?(/offers/follow/\S+)", text)[1]


def test_send_correct_and_withdraw_an_offer(live_server, page):
    with live_server.session_factory() as session:
        f.organization(session, name="Banco Interamericano", kind="multilateral")
    page.goto(live_server.url + "/offers/new")
    assert page.get_by_role("heading", name="Ofrezca cooperación a la ciudad").is_visible()
    assert not page.locator("input[name=homepage]").is_visible()

    # Wrong: a title too short, no modality, a broken email and a new ally with no country.
    page.get_by_label("Nombre de la organización").fill("Fundación Ladera")
    page.get_by_label("Tipo de organización").select_option("foundation")
    page.get_by_label("Correo de contacto").fill("ana@")
    page.get_by_label("Título").fill("ab")
    page.get_by_label("Descripción").fill("Subvenciones para reducir el riesgo en laderas.")
    page.get_by_label("Monto mínimo").fill("50000")
    page.get_by_label("Monto máximo").fill("250000")
    page.get_by_label("Moneda").select_option("USD")
    page.get_by_label("Idioma de la oferta").select_option("es")
    page.get_by_role("button", name="Enviar la oferta").click()
    page.wait_for_load_state()

    assert page.locator("#title-errors").inner_text() == "Use entre 3 y 300 caracteres."
    assert page.locator("#modalities-errors").inner_text() == "Elija al menos una opción."
    assert page.locator("#contact_email-errors").inner_text() == "Escriba un correo válido."
    assert page.locator("#org_country-errors").inner_text() == "Este campo es obligatorio."
    assert page.get_by_label("Título").input_value() == "ab"
    assert page.get_by_label("Nombre de la organización").input_value() == "Fundación Ladera"
    assert page.get_by_label("Monto máximo").input_value() == "250000"
    assert page.get_by_label("Moneda").input_value() == "USD"
    screenshot(page, "public-offer-form-errors")

    # Corrected.
    page.get_by_label("Título").fill("Fondo de barrios resilientes")
    page.get_by_label("Donación (no reembolsable)").check()
    page.get_by_label("Territorio sostenible").check()
    page.get_by_label("Correo de contacto").fill("ana@example.org")
    page.get_by_label("País", exact=True).select_option("ES")
    page.get_by_role("button", name="Enviar la oferta").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Gracias: recibimos su oferta").is_visible()
    assert page.get_by_text("ana@example.org").is_visible()
    screenshot(page, "public-offer-received")

    with live_server.session_factory() as session:
        offer = session.scalar(sa.select(Offer))
        assert offer.status == OfferStatus.SUBMITTED and offer.modalities == ["grant"]

    page.goto(live_server.url + emailed_follow_path(live_server.app))
    assert page.get_by_role("heading", name="Fondo de barrios resilientes").is_visible()
    assert page.get_by_text("Enviada: espera la revisión del equipo de cooperación").is_visible()
    page.get_by_role("link", name="Retirar la oferta").click()
    page.get_by_role("button", name="Sí, retirarla").click()
    page.wait_for_load_state()
    assert page.get_by_text("Su oferta fue retirada.").is_visible()
    assert page.get_by_text("Retirada por usted").is_visible()
    screenshot(page, "public-offer-withdrawn")
    with live_server.session_factory() as session:
        assert session.get(Offer, offer.id).status == OfferStatus.WITHDRAWN
