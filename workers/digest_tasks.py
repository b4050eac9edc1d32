"""Digest tasks (queue `email`): the weekly run from beat, and one subscriber's retry."""

from __future__ import annotations

import logging

from services import digest, mail
from workers.main import app, runtime
from workers.tasks import RecordedTask

log = logging.getLogger(__name__)


def _session():
    return runtime().session_factory()


@app.task(name="digest.send_weekly", base=RecordedTask)
def send_weekly() -> dict:
    """Send this week's digests; each refused recipient is retried on its own, later."""
    settings = runtime().settings
    with _session() as session:
        result = digest.send_weekly(session, settings)
    for subscription_id in result.failed:
        send_one.apply_async(
            args=[subscription_id, result.period],
            countdown=digest.retry_delay(1, settings.digest_retry_delay),
        )
    log.info(
        "digest %s: %d reserved, %d sent, %d to retry",
        result.period,
        result.reserved,
        result.sent,
        len(result.failed),
    )
    return {
        "period": result.period,
        "reserved": result.reserved,
        "sent": result.sent,
        "failed": result.failed,
    }


@app.task(name="digest.send_one", base=RecordedTask, bind=True)
def send_one(self, subscription_id: int, period: str) -> bool:
    """Send one subscriber's reserved digest; on an SMTP failure retry with growing delays."""
    settings = runtime().settings
    try:
        with _session() as session:
            return digest.send_one(session, settings, subscription_id, period) is not None
    except mail.MailError as exc:
        if exc.permanent:  # the row keeps the error; retrying would not help
            log.error("digest for subscription %s (%s) not sent: %s", subscription_id, period, exc)
            return False
        # The first retry came from send_weekly after retry_delay(1); this is attempt n + 2.
        delay = digest.retry_delay(self.request.retries + 2, settings.digest_retry_delay)
        raise self.retry(exc=exc, countdown=delay) from exc
