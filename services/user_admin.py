"""Managing who signs in: creating users (from the admin page, the CLI or the demo), changing
roles, deactivating and reactivating them, lifting a lock-out. Every change is audited."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Organization, User
from models.enums import Role
from services import audit, clock
from services.credentials import hash_password
from services.db import committing, fetch
from services.digest import subscriptions as digest_subscriptions
from services.errors import Conflict, Invalid

ENTITY = "user"
FIELDS = ("email", "role", "active", "organization_id", "name", "language")


def find_user(session: Session, email: str) -> User | None:
    """The user with this email (case and surrounding spaces ignored), if any."""
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
    admin_id: int | None = None,
) -> User:
    """Create a user; audited when an administrator (`admin_id`) does it from the admin page.

    Partners must belong to an organisation (a supply-side ally); staff and administrators
    belong to the agency, so an organisation given for them is ignored. The password is hashed.
    """
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid("invalid email", {"email": ["Give a valid email address."]})
    if role not in {r.value for r in Role}:
        raise Invalid("unknown role", {"role": ["Use admin, staff or partner."]})
    if role != Role.PARTNER:
        organization_id = None
    elif organization_id is None:
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
        if admin_id is not None:
            session.flush()
            audit.record(
                session, admin_id, ENTITY, user.id, "create", None, audit.snapshot(user, FIELDS)
            )
    if user.role == Role.PARTNER:  # their organisation's offers' new matches, by email weekly
        digest_subscriptions.ensure_partner_subscriptions(session)
    return user


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(sa.select(User).order_by(User.active.desc(), User.role, User.email))
    )


def get(session: Session, user_id: int) -> User:
    return fetch(session, User, user_id, "user")


def _admins_left(session: Session, excluding: int) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != excluding)
        )
        or 0
    )


def change(
    session: Session,
    admin_id: int,
    user: User,
    *,
    role: str | None = None,
    active: bool | None = None,
    organization_id: int | None = None,
) -> User:
    """Change a user's role, organisation or whether they may sign in; audited.

    An administrator cannot demote or deactivate themself, and the last active administrator
    is kept, so nobody locks the agency out of user management.
    """
    values: dict = {}
    if role is not None:
        if role not in {r.value for r in Role}:
            raise Invalid("unknown role", {"role": ["Use admin, staff or partner."]})
        values["role"] = Role(role)
        if role == Role.PARTNER:
            org = organization_id or user.organization_id
            if org is None or session.get(Organization, org) is None:
                raise Invalid(
                    "a partner needs an organisation",
                    {"organization_id": ["Choose the partner's organisation."]},
                )
            values["organization_id"] = org
    if active is not None:
        values["active"] = bool(active)
    losing_admin = (
        user.role == Role.ADMIN
        and user.active
        and (values.get("role", Role.ADMIN) != Role.ADMIN or values.get("active", True) is False)
    )
    if losing_admin:
        if user.id == admin_id:
            raise Conflict(
                "you cannot remove your own administrator access",
                {"role": ["Ask another administrator to do it."]},
            )
        if not _admins_left(session, user.id):
            raise Conflict(
                "this is the last active administrator",
                {"role": ["Make another user an administrator first."]},
            )
    with committing(session):
        changed = audit.audited_update(session, user, admin_id, ENTITY, "update", values)
        if changed.get("active") is True:
            user.failed_logins = 0
            user.locked_until = None
        if changed.get("active") is False:  # every session of the person ends at once
            user.session_version = (user.session_version or 0) + 1
    return user


def is_locked(user: User, now: datetime | None = None) -> bool:
    """Whether the user's sign-in lock-out still holds."""
    locked_until = clock.aware(user.locked_until)
    return locked_until is not None and locked_until > (now or clock.now())


def unlock(session: Session, admin_id: int, user: User) -> User:
    """Lift a sign-in lock-out before it expires; audited."""
    if user.locked_until is None:
        return user
    with committing(session):
        audit.record(
            session,
            admin_id,
            ENTITY,
            user.id,
            "unlock",
            {"locked_until": audit.plain(user.locked_until)},
            {"locked_until": None},
        )
        user.locked_until = None
        user.failed_logins = 0
    return user
