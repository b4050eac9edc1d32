"""Sign in through a real browser: the foundation the page tests build on."""

from __future__ import annotations

import pytest

from services import user_admin
from tests.integration.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_sign_in_and_switch_language(live_server, page):
    with live_server.session_factory() as session:
        user_admin.create_user(session, "ana@example.org", "staff", "a-long-password", name="Ana")
    page.goto(live_server.url + "/")
    assert "/login" in page.url
    assert page.get_by_role("heading", name="Iniciar sesión").is_visible()
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=password]", "wrong-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    assert page.get_by_text(
        "Correo o contraseña incorrectos, o la cuenta no puede iniciar sesión ahora."
    ).is_visible()
    page.fill("input[name=password]", "a-long-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_load_state()
    assert page.get_by_text("Ana").first.is_visible()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Sign out").is_visible()
    screenshot(page, "signed-in")
