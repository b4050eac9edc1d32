"""The transactional outbox: tasks are written with the work they follow, sent after commit.

A use case adds a message in its own transaction; after the commit, `dispatch` hands pending
messages to the broker through the sender its session carries (`Session.info[SENDER_KEY]`,
installed by services.runtime.Runtime for the web app and the worker). A session without one
(a test, a script) leaves the messages waiting. When the broker is down the messages wait too,
and the periodic sweep or a worker's start-up sends them.
"""

from __future__ import annotations

import logging
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Offer, OutboxMessage, Project
from models.enums import ScoringState
from services import task_names

log = logging.getLogger(__name__)

SENDER_KEY = "coopmatch.outbox_sender"
DEFAULT_BATCH = 200
# Once its scoring task is with the broker, an item shows `queued` instead of `waiting`.
QUEUED_ON_SEND = {task_names.SCORE_OFFER: Offer, task_names.SCORE_PROJECT: Project}


class Sender(Protocol):
    """Hands a task to the broker (or runs it in-process); raises when it cannot."""

    def __call__(self, task: str, args: list, *, countdown: float | None = None) -> None: ...


def add(session: Session, task: str, args: list) -> OutboxMessage:
    """Add a message to the caller's transaction."""
    message = OutboxMessage(task=task, args=list(args))
    session.add(message)
    return message


def pending(session: Session) -> int:
    """How many messages wait to be sent."""
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0


def sender_of(session: Session) -> Sender | None:
    """The sender the session's runtime installed, if any."""
    return session.info.get(SENDER_KEY)


def dispatch(session: Session, limit: int = DEFAULT_BATCH) -> int:
    """Send pending messages in order; stop at the first broker failure. Return how many went."""
    sender = sender_of(session)
    if sender is None:
        return 0
    messages = [
        (m.id, m.task, list(m.args))
        for m in session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id).limit(limit))
    ]
    session.commit()  # hold no transaction while a task may run in-process
    sent = 0
    for message_id, task, args in messages:
        try:
            sender(task, args)
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
        _mark_queued(session, task, args)
        session.commit()
        sent += 1
    return sent


def _mark_queued(session: Session, task: str, args: list) -> None:
    model = QUEUED_ON_SEND.get(task)
    if model is not None and args:
        session.execute(
            sa.update(model)
            .where(model.id == args[0], model.scoring_state == ScoringState.WAITING)
            # updated_at kept: it says when the content changed (services.matching.store)
            .values(scoring_state=ScoringState.QUEUED, updated_at=model.updated_at)
        )
