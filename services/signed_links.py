"""Signed, expiring tokens for links sent by email (follow an offer, unsubscribe)."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.errors import DomainError


class InvalidLink(DomainError):
    status = 400
    code = "invalid_link"


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


def sign(secret_key: str, salt: str, payload: dict) -> str:
    """Return a URL-safe token carrying `payload`, signed with the app secret and `salt`."""
    return URLSafeTimedSerializer(secret_key, salt=salt).dumps(payload)


def read(
    secret_key: str,
    salt: str,
    token: str,
    max_age: timedelta,
    *,
    expired: str,
    invalid: str,
    invalid_error: type[DomainError] = InvalidLink,
) -> dict:
    """Return a token's payload; LinkExpired(expired) when old, invalid_error(invalid) else."""
    try:
        payload = URLSafeTimedSerializer(secret_key, salt=salt).loads(
            token, max_age=int(max_age.total_seconds())
        )
    except SignatureExpired as exc:
        raise LinkExpired(expired) from exc
    except BadSignature as exc:
        raise invalid_error(invalid) from exc
    if not isinstance(payload, dict):
        raise invalid_error(invalid)
    return payload


def peek(token: str) -> dict | None:
    """The payload of a token before its signature is checked (None when unreadable): to find
    which record a token names, whose details then complete the salt it is checked with."""
    try:
        _valid, payload = URLSafeTimedSerializer("unused").loads_unsafe(token)
    except Exception:  # noqa: BLE001  (anything a stranger sends: unreadable is the answer)
        return None
    return payload if isinstance(payload, dict) else None
