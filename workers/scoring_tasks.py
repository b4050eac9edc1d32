"""Scoring tasks (queue `scoring`): ids in, a service call, retries with backoff."""

from __future__ import annotations

from services import outbox, task_names
from services.matching import rebuild, scoring
from workers.celery_app import app, runtime


@app.task(name=task_names.SCORE_OFFER)
def score_offer(offer_id: int) -> int:
    rt = runtime()
    with rt.session() as session:
        return scoring.score_offer(session, rt.settings, offer_id, indexes=rt.indexes)


@app.task(name=task_names.SCORE_PROJECT)
def score_project(project_id: int) -> int:
    rt = runtime()
    with rt.session() as session:
        return scoring.score_project(session, rt.settings, project_id, indexes=rt.indexes)


@app.task(name=task_names.REBUILD_MATCHES, bind=True, dont_autoretry_for=(rebuild.Busy,))
def rebuild_matches(self, job_id: str) -> str:
    rt = runtime()
    try:
        with rt.session() as session:
            job = rebuild.run_rebuild(session, rt.settings, job_id, indexes=rt.indexes)
            return str(job.status)
    except rebuild.Busy as exc:
        # An earlier attempt of this job died holding the lease; wait for it to expire.
        raise self.retry(exc=exc, countdown=rt.settings.lock_ttl, max_retries=None) from exc


@app.task(name=task_names.NIGHTLY_REBUILD)
def nightly_rebuild() -> str:
    """Queue the day's rebuild once, however many beat processes send this."""
    rt = runtime()
    with rt.session() as session:
        return rebuild.request_nightly_rebuild(session, rt.settings).id


@app.task(name=task_names.EXPIRE_OFFERS)
def expire_offers() -> int:
    rt = runtime()
    with rt.session() as session:
        return scoring.expire_offers(session, rt.settings)


@app.task(name=task_names.SWEEP_OUTBOX)
def sweep() -> int:
    """Send what waits in the outbox (the broker was down, or a process died after commit)."""
    with runtime().session() as session:
        return outbox.dispatch(session)
