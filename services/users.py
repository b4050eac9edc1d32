"""Users and their API tokens: tokens are shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import ApiToken, Organization, User
from models.enums import Role
from services.db import committing
from services.errors import Conflict, Invalid, NotFound

TOKEN_PREFIX = "cm_"
MIN_PASSWORD_LENGTH = 10


def hash_token(raw: str) -> str:
    """Return the stored form of a token: tokens are long and random, so SHA-256 suffices."""
    return hashlib.sha256(raw.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Return a scrypt hash of `password`, refusing one too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "password too short", {"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]}
        )
    return generate_password_hash(password, method="scrypt")


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    email: str,
    role: str,
    password: str | None,
    *,
    name: str = "",
    language: str = "es",
    organization_id: int | None = None,
) -> User:
    """Create a user; partners must belong to an organisation."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid("invalid email", {"email": ["Give a valid email address."]})
    if role not in {r.value for r in Role}:
        raise Invalid("unknown role", {"role": ["Use admin, staff or partner."]})
    if role == Role.PARTNER and organization_id is None:
        raise Invalid(
            "a partner needs an organisation",
            {"organization_id": ["Give the partner's organisation."]},
        )
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise Invalid("unknown organisation", {"organization_id": ["No such organisation."]})
    if find_user(session, email):
        raise Conflict(f"a user with email {email} already exists")
    user = User(
        email=email,
        role=Role(role),
        name=name,
        language=language,
        organization_id=organization_id,
        password_hash=hash_password(password) if password else None,
    )
    with committing(session):
        session.add(user)
    return user


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
        token.revoked_at = token.revoked_at or datetime.now(UTC)
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
