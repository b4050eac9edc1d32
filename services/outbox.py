"""The transactional outbox: tasks are written with the work they follow, sent after commit.

A use case adds a message in its own transaction; after the commit, `dispatch` hands pending
messages to the broker through the sender the wiring module installed (web or worker). When
the broker is down the messages wait, and the periodic sweep or a worker's start-up sends them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import OutboxMessage

log = logging.getLogger(__name__)

Sender = Callable[[str, list], None]
DEFAULT_BATCH = 200

_sender: Sender | None = None
_after_send: dict[str, Callable[[Session, list], None]] = {}


def set_sender(sender: Sender | None) -> None:
    """Install the function that hands a task to the broker (it raises when it cannot)."""
    global _sender
    _sender = sender


def after_send(task: str):
    """Register a hook run (in a new transaction) after a message for `task` was sent."""

    def register(hook: Callable[[Session, list], None]):
        _after_send[task] = hook
        return hook

    return register


def add(session: Session, task: str, args: list) -> OutboxMessage:
    """Add a message to the caller's transaction."""
    message = OutboxMessage(task=task, args=list(args))
    session.add(message)
    return message


def pending(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0


def dispatch(session: Session, limit: int = DEFAULT_BATCH) -> int:
    """Send pending messages in order; stop at the first broker failure. Return how many went."""
    if _sender is None:
        return 0
    messages = [
        (m.id, m.task, list(m.args))
        for m in session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id).limit(limit))
    ]
    session.commit()  # hold no transaction while a task may run in-process
    sent = 0
    for message_id, task, args in messages:
        try:
            _sender(task, args)
        except Exception as exc:  # any broker failure: keep the message for the sweep
            log.warning("broker unavailable, %s(%s) waits in the outbox: %s", task, args, exc)
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(attempts=OutboxMessage.attempts + 1, last_error=str(exc)[:500])
            )
            session.commit()
            break
        session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id == message_id))
        hook = _after_send.get(task)
        if hook:
            hook(session, args)
        session.commit()
        sent += 1
    return sent
