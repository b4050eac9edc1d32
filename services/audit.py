"""Recording and reading the audit trail: every staff change goes through `record`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import AuditEvent
from services import jsonable

plain = jsonable.plain  # the audit trail keeps decimals exact, as text


def differs(old: Any, new: Any) -> bool:
    """Whether a field really changes: numbers compare as numbers (200 == 200.00)."""
    numbers = (int, float, Decimal)
    if isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool):
        return Decimal(str(old)) != Decimal(str(new))
    return plain(old) != plain(new)


def snapshot(obj, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def changes(obj, values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `values` that really change `obj` (compared with `differs`)."""
    return {k: v for k, v in values.items() if differs(getattr(obj, k), v)}


def audited_update(
    session: Session,
    obj,
    user_id: int | None,
    entity_type: str,
    action: str,
    values: Mapping[str, Any],
    *,
    apply: Callable[[dict[str, Any]], None] | None = None,
    extra: Mapping[str, Any] | None = None,
    only_changes: bool = True,
) -> dict[str, Any]:
    """Within the caller's transaction, change `obj` and record one event; return what changed.

    The fields of `values` that change `obj` (all of them with only_changes=False) are made by
    `apply` (default: set each attribute); the event keeps their values before and after, and
    `extra` (a reason, a note) beside the after values. Nothing changes, nothing is recorded.
    The caller commits, so the change and its event stand or fall together.
    """
    changed = changes(obj, values) if only_changes else dict(values)
    if not changed:
        return {}
    before = snapshot(obj, tuple(changed))
    if apply is None:
        for key, value in changed.items():
            setattr(obj, key, value)
    else:
        apply(changed)
    session.flush()
    after = {**snapshot(obj, tuple(changed)), **(extra or {})}
    record(session, user_id, entity_type, obj.id, action, before, after)
    return changed


def record(
    session: Session,
    user_id: int | None,
    entity_type: str,
    entity_id: int,
    action: str,
    before: dict | None,
    after: dict | None,
) -> AuditEvent:
    """Add an event to the caller's transaction (the caller commits)."""
    event = AuditEvent(
        user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=plain(before),
        after=plain(after),
    )
    session.add(event)
    return event


def trail(
    session: Session, entity_type: str, entity_ids: list[int] | tuple[int, ...], limit: int = 200
) -> list[AuditEvent]:
    """Return the newest events about the given records, newest first."""
    if not entity_ids:
        return []
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id.in_(entity_ids))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
