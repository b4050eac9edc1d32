"""Sign-in limits, sessions, CSRF, security headers and cookie flags (web/auth_views.py,
web/sessions.py, security.py)."""

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


REFUSED = "Wrong email or password, or the account may not sign in now."


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_every_failure_gets_the_same_answer(client, person, session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    wrong = sign_in(client, "ana@example.org", "wrong-password")
    unknown = sign_in(client, "nobody@example.org", "wrong-password")
    person.active = False
    session.commit()
    inactive = sign_in(client, "ana@example.org", "a-long-password")
    for response in (wrong, unknown, inactive):
        assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)


def test_failures_from_one_address_are_limited_without_locking_the_owner_out(client, person):
    attacker = _from(client, "203.0.113.7")
    for attempt in range(5):
        response = sign_in(attacker, "Ana@Example.ORG ", "wrong-password")  # one account
        assert response.status_code == 400, attempt
    blocked = sign_in(attacker, "ana@example.org", "a-long-password")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    owner = _from(client.application.test_client(), "198.51.100.20")
    assert sign_in(owner, "ana@example.org").status_code == 302  # still gets in from elsewhere


def test_every_address_is_limited_whatever_the_accounts(client, person):
    client = _from(client, "203.0.113.8")
    codes = [sign_in(client, f"guess{i}@example.org", "x" * 12).status_code for i in range(21)]
    assert codes[:20] == [400] * 20 and codes[20] == 429


def test_the_failure_message_is_in_spanish_for_spanish_browsers(client, person):
    headers = {"Accept-Language": "es-CO,es;q=0.9"}
    token = csrf_token(client.get("/login", headers=headers).get_data(as_text=True))
    response = client.post(
        "/login",
        headers=headers,
        data={"email": "ana@example.org", "password": "nope-nope-nope", "csrf_token": token},
    )
    assert "Correo o contraseña incorrectos" in response.get_data(as_text=True)


def test_a_stolen_cookie_dies_with_sign_out(client, person):
    sign_in(client, "ana@example.org")
    stolen = client.application.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/staff/queue").status_code == 200
    page = client.get("/account/password").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert stolen.get("/staff/queue").status_code == 302


def test_a_password_change_ends_the_other_sessions_but_not_this_one(client, person):
    sign_in(client, "ana@example.org")
    other = client.application.test_client()
    sign_in(other, "ana@example.org")
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": "a-long-password",
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert response.status_code == 302
    assert client.get("/staff/queue").status_code == 200
    assert other.get("/staff/queue").status_code == 302


def test_deactivating_a_user_ends_their_sessions(client, session, person):
    sign_in(client, "ana@example.org")
    boss = user_admin.create_user(session, "boss@example.org", "admin", "a-long-password")
    user_admin.change(session, boss.id, person, active=False)
    assert client.get("/staff/queue").status_code == 302


def test_sessions_end_when_idle_and_after_their_lifetime(client, person):
    sign_in(client, "ana@example.org")
    with client.session_transaction() as cookie:
        cookie["seen"] -= 31 * 60
    assert client.get("/staff/queue").status_code == 302
    sign_in(client, "ana@example.org")
    with client.session_transaction() as cookie:
        cookie["started"] -= 13 * 3600
    assert client.get("/staff/queue").status_code == 302
    sign_in(client, "ana@example.org")
    assert client.get("/staff/queue").status_code == 200


def test_behind_a_proxy_each_client_address_has_its_own_limit(tmp_path, session_factory, person):
    from web.app import create_app

    settings = app_config.Settings(
        instance_path=tmp_path / "proxied", database_url="sqlite://", proxy_hops=1
    )
    client = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    client = client.test_client()
    for i in range(20):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        assert sign_in(client, f"g{i}@example.org", "x" * 12).status_code == 400
    assert sign_in(client, "g@example.org", "x" * 12).status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.30"
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
