"""Checks of the services CoopMatch depends on, for /healthz."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from config import Settings


def check_database(session: Session) -> dict:
    """Return {"ok": bool, "detail": str} after a trivial query."""
    try:
        session.execute(sa.text("SELECT 1"))
        return {"ok": True, "detail": session.get_bind().dialect.name}
    except SQLAlchemyError as exc:
        return {"ok": False, "detail": str(exc.__cause__ or exc).splitlines()[0]}


def check_broker(settings: Settings) -> dict:
    """Return {"ok": bool, "detail": str}: in-process tasks need no broker; else ping Redis."""
    if settings.eager_tasks:
        return {"ok": True, "detail": "in-process tasks (no broker)"}
    import redis

    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        return {"ok": True, "detail": "redis"}
    except redis.RedisError as exc:
        return {"ok": False, "detail": f"redis unreachable: {exc}"}
