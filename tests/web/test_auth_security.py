"""Sign-in, lock-out, CSRF, security headers and cookie flags (web/auth_views.py, security.py)."""

from __future__ import annotations

import pytest

import config as app_config
from services import user_admin
from tests.web.helpers import csrf_token, sign_in


@pytest.fixture
def person(session):
    return user_admin.create_user(
        session, "ana@example.org", "staff", "a-long-password", language="en"
    )


def test_repeated_failures_lock_the_account_with_a_clear_message(client, person):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for _ in range(4):
        response = sign_in(client, "ana@example.org", "wrong-password")
        assert response.status_code == 400
        assert "Wrong email or password." in response.get_data(as_text=True)
    response = sign_in(client, "ana@example.org", "wrong-password")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Too many failed sign-ins: this account is locked until" in text
    # while locked, even the right password does not get in
    response = sign_in(client, "ana@example.org", "a-long-password")
    assert response.status_code == 400 and "locked until" in response.get_data(as_text=True)
    assert client.get("/staff/queue").status_code == 302


def test_lock_out_message_is_in_spanish_for_spanish_browsers(client, person):
    headers = {"Accept-Language": "es-CO,es;q=0.9"}
    token = csrf_token(client.get("/login", headers=headers).get_data(as_text=True))
    for _ in range(5):
        response = client.post(
            "/login",
            headers=headers,
            data={"email": "ana@example.org", "password": "nope-nope-nope", "csrf_token": token},
        )
    assert "Demasiados intentos fallidos" in response.get_data(as_text=True)


def test_an_admin_can_lift_a_lock_out(client, session, person):
    for _ in range(5):
        sign_in(client, "ana@example.org", "wrong-password")
    user_admin.create_user(session, "boss@example.org", "admin", "a-long-password")
    admin = client.application.test_client()
    sign_in(admin, "boss@example.org")
    page = admin.get("/staff/users").get_data(as_text=True)
    assert f'action="/staff/users/{person.id}/unlock"' in page
    admin.post(f"/staff/users/{person.id}/unlock", data={"csrf_token": csrf_token(page)})
    assert sign_in(client, "ana@example.org").status_code == 302


def test_forms_without_a_csrf_token_get_400(client, person):
    response = client.post(
        "/login", data={"email": "ana@example.org", "password": "a-long-password"}
    )
    assert response.status_code == 400
    assert client.get("/staff/queue").status_code == 302  # not signed in
    sign_in(client, "ana@example.org")
    assert client.post("/logout").status_code == 400
    assert (
        client.post("/staff/matches/bulk-reject", data={"reason": "duplicate"}).status_code == 400
    )


def test_every_response_carries_the_security_headers(client, person):
    for url in ("/login", "/staff/queue", "/static/staff.js", "/nowhere"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"], url
        assert "Strict-Transport-Security" not in headers, url  # only in production


def test_session_cookie_is_httponly_and_lax(client, person):
    response = sign_in(client, "ana@example.org")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP during development


@pytest.fixture
def production_client(tmp_path, session_factory, person):
    from web.app import create_app

    settings = app_config.Settings(
        env="production",
        secret_key="x" * 40,
        instance_path=tmp_path / "prod",
        database_url="postgresql+psycopg://unused/coopmatch",
        redis_url="redis://127.0.0.1:6379/15",
    )
    # The limiter is one shared object: keep its storage in memory and leave it enabled.
    app = create_app(
        {"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
        settings=settings,
        session_factory=session_factory,
    )
    return app.test_client()


def test_production_adds_hsts_and_secure_cookies(production_client):
    response = sign_in(production_client, "ana@example.org")
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_sign_out_and_password_change(client, person):
    sign_in(client, "ana@example.org")
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": "wrong-one-here",
            "new_password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": "a-long-password",
            "new_password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/staff/queue").status_code == 302
    assert sign_in(client, "ana@example.org", "a-long-password").status_code == 400
    assert sign_in(client, "ana@example.org", "a-new-long-password").status_code == 302
