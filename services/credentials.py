"""Secrets people and programs hold: passwords (scrypt) and API tokens (stored as SHA-256)."""

from __future__ import annotations

import hashlib

from werkzeug.security import check_password_hash, generate_password_hash

from models import User
from services.errors import Invalid

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
