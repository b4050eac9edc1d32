"""Staff work tasks (queue `email`): the emails of note mentions, and deadline reminders."""

from __future__ import annotations

import logging

from services import mail, task_names
from services.digest.sending import retry_delay
from services.work import mentions, reminders
from workers.celery_app import app, runtime

log = logging.getLogger(__name__)


@app.task(name=task_names.NOTE_MENTIONS)
def send_mentions(note_id: int) -> dict:
    """Email the colleagues a note mentions; each refused recipient is retried alone."""
    rt = runtime()
    with rt.session() as session:
        sent, failed = mentions.send_note(session, rt.settings, note_id)
    for user_id, period in failed:
        rt.send(
            task_names.NOTE_MENTION_ONE,
            [user_id, period],
            countdown=retry_delay(1, rt.settings.digest_retry_delay),
        )
    return {"sent": sent, "failed": failed}


def _send_retrying(task, send, owner_id: int, period: str) -> bool:
    """Send one reserved row with `send`; on an SMTP failure retry `task` with growing delays
    (the first retry came from the run after retry_delay(1); this is attempt n + 2)."""
    rt = runtime()
    try:
        with rt.session() as session:
            return send(session, rt.settings, owner_id, period) is not None
    except mail.MailError as exc:
        if exc.permanent:  # the row keeps the error; retrying would not help
            log.error("%s(%s, %s) not sent: %s", task.name, owner_id, period, exc)
            return False
        delay = retry_delay(task.request.retries + 2, rt.settings.digest_retry_delay)
        raise task.retry(exc=exc, countdown=delay) from exc


@app.task(name=task_names.NOTE_MENTION_ONE, bind=True)
def send_mention(self, user_id: int, period: str) -> bool:
    """Send one reserved mention email, retried on SMTP failures."""
    return _send_retrying(self, mentions.send_one, user_id, period)


@app.task(name=task_names.REMINDERS_SEND_DUE)
def send_reminders() -> dict:
    """Send today's deadline reminders; each refused one is retried alone, later."""
    rt = runtime()
    with rt.session() as session:
        result = reminders.send_due(session, rt.settings)
    for match_id, period in result.failed:
        rt.send(
            task_names.REMINDER_SEND_ONE,
            [match_id, period],
            countdown=retry_delay(1, rt.settings.digest_retry_delay),
        )
    log.info(
        "deadline reminders: %d reserved, %d sent, %d to retry",
        result.reserved,
        result.sent,
        len(result.failed),
    )
    return {"reserved": result.reserved, "sent": result.sent, "failed": result.failed}


@app.task(name=task_names.REMINDER_SEND_ONE, bind=True)
def send_reminder(self, match_id: int, period: str) -> bool:
    """Send one reserved reminder, retried on SMTP failures."""
    return _send_retrying(self, reminders.send_one, match_id, period)
