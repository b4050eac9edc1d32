"""Celery tasks: ids in, a service call, retries with backoff; no logic of their own."""

from __future__ import annotations

import logging

from celery import Task

from services import scoring
from workers.main import app, runtime

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX = 600


class RecordedTask(Task):
    """Retries with exponential backoff; a failure after the last retry is kept for staff."""

    autoretry_for = (Exception,)
    dont_autoretry_for = (scoring.Busy,)
    retry_backoff = True
    retry_backoff_max = RETRY_BACKOFF_MAX
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True

    @property
    def max_retries(self):  # read from settings, so COOPMATCH_TASK_MAX_RETRIES applies
        return runtime().settings.task_max_retries

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        log.error("task %s%s failed for good: %s", self.name, tuple(args), exc)
        with runtime().session_factory() as session:
            scoring.mark_failed(session, self.name, list(args), f"{type(exc).__name__}: {exc}")


def _session():
    return runtime().session_factory()


@app.task(name="scoring.score_offer", base=RecordedTask)
def score_offer(offer_id: int) -> int:
    with _session() as session:
        return scoring.score_offer(session, runtime().settings, offer_id)


@app.task(name="scoring.score_project", base=RecordedTask)
def score_project(project_id: int) -> int:
    with _session() as session:
        return scoring.score_project(session, runtime().settings, project_id)


@app.task(name="scoring.rebuild_matches", base=RecordedTask, bind=True)
def rebuild_matches(self, job_id: str) -> str:
    try:
        with _session() as session:
            return str(scoring.run_rebuild(session, runtime().settings, job_id).status)
    except scoring.Busy as exc:
        # An earlier attempt of this job died holding the lease; wait for it to expire.
        raise self.retry(exc=exc, countdown=runtime().settings.lock_ttl, max_retries=None) from exc


@app.task(name="scoring.nightly_rebuild", base=RecordedTask)
def nightly_rebuild() -> str:
    """Queue the day's rebuild once, however many beat processes send this."""
    settings = runtime().settings
    with _session() as session:
        key = f"nightly-rebuild:{scoring.agency_today(settings).isoformat()}"
        return scoring.request_rebuild(session, dedupe_key=key).id


@app.task(name="scoring.expire_offers", base=RecordedTask)
def expire_offers() -> int:
    with _session() as session:
        return scoring.expire_offers(session, runtime().settings)


@app.task(name="scoring.sweep", base=RecordedTask)
def sweep() -> int:
    with _session() as session:
        return scoring.sweep(session)
