"""Staff work tasks (queue `email`): the emails of note mentions, and deadline reminders."""

from __future__ import annotations

import logging

from services import mail, task_names
from services.digest.sending import retry_delay
from services.work import mentions
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


@app.task(name=task_names.NOTE_MENTION_ONE, bind=True)
def send_mention(self, user_id: int, period: str) -> bool:
    """Send one reserved mention email; on an SMTP failure retry with growing delays."""
    rt = runtime()
    try:
        with rt.session() as session:
            return mentions.send_one(session, rt.settings, user_id, period) is not None
    except mail.MailError as exc:
        if exc.permanent:
            log.error("mention %s for user %s not sent: %s", period, user_id, exc)
            return False
        delay = retry_delay(self.request.retries + 2, rt.settings.digest_retry_delay)
        raise self.retry(exc=exc, countdown=delay) from exc
