"""Leases in the database: one holder per name until it releases or its lease runs out.

Kept in the database rather than Redis so the embedded default needs nothing else, and so a
lease and the work it guards commit together. A holder that dies leaves a lease that expires.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Lock
from services import clock


def acquire(session: Session, name: str, holder: str, ttl: int) -> bool:
    """Take the lease `name` for `holder` for `ttl` seconds; True when taken. Commits."""
    expires = clock.now() + timedelta(seconds=ttl)
    try:
        with session.begin_nested():
            session.add(Lock(name=name, holder=holder, expires_at=expires))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
    taken = session.execute(
        sa.update(Lock)
        .where(Lock.name == name, Lock.expires_at < clock.now())
        .values(holder=holder, expires_at=expires)
    )
    session.commit()
    return taken.rowcount == 1


def holder(session: Session, name: str) -> str | None:
    return session.scalar(sa.select(Lock.holder).where(Lock.name == name))


def live_holder(session: Session, name: str) -> str | None:
    """Who holds the lease `name` now (None when nobody, or when it has expired)."""
    return session.scalar(
        sa.select(Lock.holder).where(Lock.name == name, Lock.expires_at >= clock.now())
    )


def refresh(session: Session, name: str, holder_id: str, ttl: int) -> bool:
    """Extend the lease while still holding it; False when it was lost. Commits."""
    kept = session.execute(
        sa.update(Lock)
        .where(Lock.name == name, Lock.holder == holder_id)
        .values(expires_at=clock.now() + timedelta(seconds=ttl))
    )
    session.commit()
    return kept.rowcount == 1


def release(session: Session, name: str, holder_id: str) -> None:
    session.execute(sa.delete(Lock).where(Lock.name == name, Lock.holder == holder_id))
    session.commit()
