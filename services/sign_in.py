"""Signing in with a password, with a lock-out after repeated failures, and password changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import User
from services import clock
from services.credentials import hash_password, verify_password
from services.db import committing
from services.errors import DomainError, Invalid
from services.user_admin import find_user

DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCKOUT = timedelta(minutes=15)


class SignInRefused(DomainError):
    status = 401
    code = "sign_in_refused"


class AccountLocked(DomainError):
    status = 423
    code = "account_locked"

    def __init__(self, until: datetime):
        super().__init__("account locked")
        self.until = until


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime | None = None,
    max_failures: int = DEFAULT_MAX_FAILURES,
    lockout: timedelta = DEFAULT_LOCKOUT,
) -> User:
    """Return the user if the password is right; count failures and lock after too many."""
    now = now or clock.now()
    user = find_user(session, email)
    if user is None or not user.active:
        raise SignInRefused("wrong email or password")
    locked_until = clock.aware(user.locked_until)
    if locked_until and locked_until > now:
        raise AccountLocked(locked_until)
    if not verify_password(user, password):
        with committing(session):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
        if user.locked_until and clock.aware(user.locked_until) > now:
            raise AccountLocked(clock.aware(user.locked_until))
        raise SignInRefused("wrong email or password")
    with committing(session):
        user.failed_logins = 0
        user.locked_until = None
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one."""
    if not verify_password(user, current):
        raise Invalid(
            "the current password is wrong",
            {"current_password": ["The current password is wrong."]},
        )
    user.password_hash = hash_password(new)
    with committing(session):
        session.add(user)


def set_language(session: Session, user: User, language: str) -> None:
    with committing(session):
        user.language = language


def load_user(session: Session, user_id: int) -> User | None:
    """The user of a signed-in session, while still allowed to sign in (None otherwise)."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None
