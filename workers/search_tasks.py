"""Saved-search tasks (queue `email`): the run every COOPMATCH_SEARCH_INTERVAL seconds, and one
search's retry after the SMTP server refused its email."""

from __future__ import annotations

import logging

from services import mail, task_names
from services.digest.sending import retry_delay
from services.searches import delivery
from workers.celery_app import app, runtime

log = logging.getLogger(__name__)


@app.task(name=task_names.SEARCH_SEND_DUE)
def send_due() -> dict:
    """Send what is new in every subscribed search; refused recipients are retried alone."""
    rt = runtime()
    with rt.session() as session:
        result = delivery.send_due(session, rt.settings)
    for search_id, period in result.failed:
        rt.send(
            task_names.SEARCH_SEND_ONE,
            [search_id, period],
            countdown=retry_delay(1, rt.settings.digest_retry_delay),
        )
    log.info(
        "saved searches: %d reserved, %d sent, %d to retry, %d unconfirmed purged",
        result.reserved,
        result.sent,
        len(result.failed),
        result.purged,
    )
    return {"reserved": result.reserved, "sent": result.sent, "failed": result.failed}


@app.task(name=task_names.SEARCH_SEND_ONE, bind=True)
def send_one(self, search_id: int, period: str) -> bool:
    """Send one search's reserved email; on an SMTP failure retry with growing delays."""
    rt = runtime()
    try:
        with rt.session() as session:
            return delivery.send_one(session, rt.settings, search_id, period) is not None
    except mail.MailError as exc:
        if exc.permanent:
            log.error("saved search %s (%s) not sent: %s", search_id, period, exc)
            return False
        # The first retry came from send_due after retry_delay(1); this is attempt n + 2.
        delay = retry_delay(self.request.retries + 2, rt.settings.digest_retry_delay)
        raise self.retry(exc=exc, countdown=delay) from exc
