"""Helpers for page tests: sign in through the real form, read CSRF tokens."""

from __future__ import annotations

import re

CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1) or found.group(2)


def sign_in(client, email: str, password: str = "a-long-password"):
    """Sign in through /login (with its CSRF token); return the response."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client, url: str, data: dict, page: str | None = None):
    """POST a form with the CSRF token read from `page` (default: the same URL)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)})
