"""Digest tasks (queue `email`): the weekly run from beat, and one subscriber's retry."""

from __future__ import annotations

import logging

from services import mail, task_names
from services.digest import delivery
from workers.celery_app import app, runtime

log = logging.getLogger(__name__)


@app.task(name=task_names.DIGEST_SEND_WEEKLY)
def send_weekly() -> dict:
    """Send this week's digests; each refused recipient is retried on its own, later."""
    rt = runtime()
    with rt.session() as session:
        result = delivery.send_weekly(session, rt.settings)
    for subscription_id in result.failed:
        rt.send(
            task_names.DIGEST_SEND_ONE,
            [subscription_id, result.period],
            countdown=delivery.retry_delay(1, rt.settings.digest_retry_delay),
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


@app.task(name=task_names.DIGEST_SEND_ONE, bind=True)
def send_one(self, subscription_id: int, period: str) -> bool:
    """Send one subscriber's reserved digest; on an SMTP failure retry with growing delays."""
    rt = runtime()
    try:
        with rt.session() as session:
            return delivery.send_one(session, rt.settings, subscription_id, period) is not None
    except mail.MailError as exc:
        if exc.permanent:  # the row keeps the error; retrying would not help
            log.error("digest for subscription %s (%s) not sent: %s", subscription_id, period, exc)
            return False
        # The first retry came from send_weekly after retry_delay(1); this is attempt n + 2.
        delay = delivery.retry_delay(self.request.retries + 2, rt.settings.digest_retry_delay)
        raise self.retry(exc=exc, countdown=delay) from exc
