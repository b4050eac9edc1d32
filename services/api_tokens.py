"""API tokens: made for a user, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ApiToken, User
from services import clock
from services.credentials import TOKEN_PREFIX, hash_token
from services.db import committing
from services.errors import NotFound
from services.user_admin import find_user


def create_token(session: Session, email: str, name: str = "") -> tuple[ApiToken, str]:
    """Make a new API token for the user; return the row and the raw token (shown once)."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with email {email}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:10], token_hash=hash_token(raw))
    with committing(session):
        session.add(token)
    return token, raw


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token by id; a revoked token no longer authenticates."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    with committing(session):
        token.revoked_at = token.revoked_at or clock.now()
    return token


def list_tokens(session: Session, email: str) -> list[ApiToken]:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with email {email}")
    return list(session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)))


def authenticate_token(session: Session, raw: str) -> User | None:
    """Return the active user holding the unrevoked token `raw`, or None."""
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user
