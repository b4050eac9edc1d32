"""Signing in with a password, with a lock-out after repeated failures, and password changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import User
from services import users
from services.db import committing
from services.errors import DomainError, Invalid

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


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


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
    now = now or datetime.now(UTC)
    user = users.find_user(session, email)
    if user is None or not user.active:
        raise SignInRefused("wrong email or password")
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        raise AccountLocked(locked_until)
    if not users.verify_password(user, password):
        with committing(session):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
        if user.locked_until and _aware(user.locked_until) > now:
            raise AccountLocked(_aware(user.locked_until))
        raise SignInRefused("wrong email or password")
    with committing(session):
        user.failed_logins = 0
        user.locked_until = None
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one."""
    if not users.verify_password(user, current):
        raise Invalid(
            "the current password is wrong",
            {"current_password": ["The current password is wrong."]},
        )
    user.password_hash = users.hash_password(new)
    with committing(session):
        session.add(user)


def set_language(session: Session, user: User, language: str) -> None:
    with committing(session):
        user.language = language
