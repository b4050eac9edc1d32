"""Who follows a project, a match or an alliance: its owner, a staff member; audited."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Alliance, Match, Project, User
from models.enums import Role
from services import audit
from services.db import committing, fetch
from services.errors import Invalid

# The kinds of record that have an owner, by the name the audit trail and the URLs use.
OWNED = {"project": Project, "match": Match, "alliance": Alliance}
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def staff(session: Session) -> list[User]:
    """The people who may own records: active staff and administrators, by name."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(sa.func.lower(sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)))
        )
    )


def model_of(kind: str):
    """The model of an owned kind; Invalid for any other name."""
    try:
        return OWNED[kind]
    except KeyError:
        raise Invalid(f"{kind!r} has no owner", {"kind": ["Unknown kind of record."]}) from None


def check_owner(session: Session, owner_id: int | None) -> None:
    """Invalid unless `owner_id` is None or an active staff member."""
    if owner_id is None:
        return
    person = session.get(User, owner_id)
    if person is None or not person.active or person.role not in STAFF_ROLES:
        raise Invalid(
            "the owner must be an active staff member",
            {"owner_id": ["Choose an active staff member."]},
        )


def assign(session: Session, kind: str, item_id: int, owner_id: int | None, user_id: int | None):
    """Make `owner_id` (None: nobody) the owner of the record; audit the change; return it."""
    model = model_of(kind)
    item = fetch(session, model, item_id, kind)
    check_owner(session, owner_id)
    with committing(session):
        audit.audited_update(session, item, user_id, kind, "assign", {"owner_id": owner_id})
    return item
