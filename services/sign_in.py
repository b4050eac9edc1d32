"""A person signing in with a password, ending their sessions, and changing their password.

Every failure looks the same from outside (SignInRefused: unknown email, wrong password,
deactivated or locked account), and costs the same work, so the answer tells nothing about
which accounts exist. Guessing is slowed by rate limits at the web's sign-in form (per address,
per address and account, per account), not by locking the account after a few failures:
anyone could otherwise lock a colleague out by typing their email wrong five times. An
administrator may still lock an account by hand (locked_until) and lift it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import User
from services import clock
from services.credentials import check_password_rules, hash_password, needs_rehash, verify_password
from services.db import committing
from services.errors import DomainError, Invalid
from services.user_admin import find_user


class SignInRefused(DomainError):
    status = 401
    code = "sign_in_refused"


def normalise_email(email: str) -> str:
    """The form an email is stored and compared in."""
    return (email or "").strip().lower()


def sign_in(session: Session, email: str, password: str, *, now: datetime | None = None) -> User:
    """Return the user if the password is right and the account may sign in."""
    now = now or clock.now()
    user = find_user(session, normalise_email(email))
    right = verify_password(user, password)  # the same work whether the user exists or not
    locked_until = clock.aware(user.locked_until) if user is not None else None
    if user is None or not user.active or not right or (locked_until and locked_until > now):
        if user is not None:
            with committing(session):
                user.failed_logins = (user.failed_logins or 0) + 1
        raise SignInRefused("wrong email or password")
    with committing(session):
        user.failed_logins = 0
        if needs_rehash(user):  # an older, cheaper hash: replace it now that we have the password
            user.password_hash = hash_password(password)
    return user


def end_sessions(session: Session, user: User) -> int:
    """End every signed-in session of `user` (sign-out, password change, deactivation);
    return the new session version to carry in the session that stays, if any."""
    with committing(session):
        session.execute(
            sa.update(User)
            .where(User.id == user.id)
            .values(session_version=User.session_version + 1)
        )
    session.refresh(user)
    return user.session_version


def change_password(session: Session, user: User, current: str, new: str) -> int:
    """Set a new password after checking the current one; every other session of the user
    ends. Return the session version the current session must carry from now on."""
    if not verify_password(user, current):
        raise Invalid(
            "the current password is wrong",
            {"current_password": ["The current password is wrong."]},
        )
    check_password_rules(new, "new_password")
    with committing(session):
        user.password_hash = hash_password(new)
    return end_sessions(session, user)


def load_user(session: Session, user_id: int, version: int | None) -> User | None:
    """The user of a signed-in session, while still allowed to sign in and while the session's
    version is the user's current one (None otherwise)."""
    user = session.get(User, user_id)
    if user is None or not user.active or version != user.session_version:
        return None
    return user


def set_language(session: Session, user: User, language: str) -> None:
    with committing(session):
        user.language = language
