"""Recording and reading the audit trail: every staff change goes through `record`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import AuditEvent


def plain(value: Any) -> Any:
    """Return `value` as something JSON can hold (dates as ISO text, decimals as text)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def differs(old: Any, new: Any) -> bool:
    """Whether a field really changes: numbers compare as numbers (200 == 200.00)."""
    numbers = (int, float, Decimal)
    if isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool):
        return Decimal(str(old)) != Decimal(str(new))
    return plain(old) != plain(new)


def snapshot(obj, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


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
