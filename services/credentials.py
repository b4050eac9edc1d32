"""Secrets people and programs hold: passwords (argon2id) and API tokens (stored as SHA-256).

Passwords are hashed with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane); a
hash made before (werkzeug's scrypt or pbkdf2) still verifies and is replaced at the next
successful sign-in (`needs_rehash`). At least MIN_PASSWORD_LENGTH characters (ASVS 2.1.1).
"""

from __future__ import annotations

import hashlib
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

from models import User
from services.errors import Invalid

TOKEN_PREFIX = "cm_"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
ARGON2_PREFIX = "$argon2id$"
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_token(raw: str) -> str:
    """Return the stored form of a token: tokens are long and random, so SHA-256 suffices."""
    return hashlib.sha256(raw.encode()).hexdigest()


def check_password_rules(password: str, field: str = "password") -> None:
    """Invalid (on `field`) for a password too short or too long to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "password too short", {field: [f"Use at least {MIN_PASSWORD_LENGTH} characters."]}
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            "password too long", {field: [f"Use at most {MAX_PASSWORD_LENGTH} characters."]}
        )


def hash_password(password: str) -> str:
    """Return an argon2id hash of `password`, refusing one that breaks the rules."""
    check_password_rules(password)
    return _HASHER.hash(password)


def _matches(stored: str, password: str) -> bool:
    if stored.startswith(ARGON2_PREFIX):
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)  # a hash from before argon2id


def verify_password(user: User | None, password: str) -> bool:
    """Whether `password` is the user's; costs a hash's work even without a user or hash, so
    an unknown email answers as slowly as a known one."""
    stored = user.password_hash if user is not None else None
    if not stored:
        _matches(_dummy_hash(), password)
        return False
    return _matches(stored, password)


def needs_rehash(user: User) -> bool:
    """Whether the user's stored hash is older or weaker than what hash_password makes now."""
    stored = user.password_hash or ""
    return not stored.startswith(ARGON2_PREFIX) or _HASHER.check_needs_rehash(stored)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anybody has: it only takes the same time")
