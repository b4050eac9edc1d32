"""Scoring tasks (queue `scoring`): ids in, a service call, retries with backoff."""

from __future__ import annotations

import os

from celery import chord

from services import outbox, task_names
from services.matching import rebuild, retrain, scoring
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
    """Fit, then rank the chunks in parallel on every worker and finish (a chord); run
    in-process (the embedded default), the same steps one after the other."""
    rt = runtime()
    try:
        with rt.session() as session:
            if self.request.is_eager:
                return str(rebuild.run_rebuild(session, rt.settings, job_id, indexes=rt.indexes))
            plan = rebuild.start_rebuild(session, rt.settings, job_id, rt.indexes)
    except rebuild.Busy as exc:
        # An earlier attempt of this job died holding the lease; wait for it to expire.
        raise self.retry(exc=exc, countdown=rt.settings.lock_ttl, max_retries=None) from exc
    if plan is None:
        return "waiting"
    finish = rebuild_finish.si(job_id).on_error(rebuild_failed.s())
    if not plan.chunks:
        finish.apply_async()
    else:
        chord(rebuild_chunk.si(job_id, plan.version, c) for c in range(plan.chunks))(finish)
    return "running"


@app.task(name=task_names.REBUILD_CHUNK, bind=True)
def rebuild_chunk(self, job_id: str, version: str, chunk: int) -> int:
    rt = runtime()
    worker = f"{self.request.hostname}:{os.getpid()}"
    with rt.session() as session:
        return rebuild.run_chunk(session, rt.settings, job_id, version, chunk, rt.indexes, worker)


@app.task(name=task_names.REBUILD_FINISH, bind=True, dont_autoretry_for=(rebuild.Unfinished,))
def rebuild_finish(self, job_id: str) -> str:
    rt = runtime()
    try:
        with rt.session() as session:
            return str(rebuild.finish_rebuild(session, rt.settings, job_id, rt.indexes).status)
    except rebuild.Unfinished as exc:  # a chunk was counted twice: wait for the missing one
        raise self.retry(exc=exc, countdown=rt.settings.lock_ttl, max_retries=None) from exc


@app.task(name=task_names.REBUILD_FAILED)
def rebuild_failed(request, exc, traceback) -> str:
    """The chord's errback, called where a chunk failed for good: the finishing task will not
    run, so the job is marked failed (its args are the finishing task's: the job id)."""
    rt = runtime()
    with rt.session() as session:
        job = rebuild.fail_rebuild(session, request.args[0], f"{type(exc).__name__}: {exc}")
    return str(job.status)


@app.task(name=task_names.NIGHTLY_REBUILD)
def nightly_rebuild() -> str:
    """Queue the day's rebuild once, however many beat processes send this."""
    rt = runtime()
    with rt.session() as session:
        return rebuild.request_nightly_rebuild(session, rt.settings).id


@app.task(name=task_names.WEEKLY_RETRAIN)
def weekly_retrain() -> int:
    """Ask for the week's retrain (coalesced with one already queued or running)."""
    rt = runtime()
    with rt.session() as session:
        return retrain.request_weekly_retrain(session).id


@app.task(name=task_names.RETRAIN)
def retrain_ranker(run_id: int) -> str:
    """Retrain the learned ranker on the staff's decisions; "adopted", "refused" or "failed"."""
    rt = runtime()
    with rt.session() as session:
        run = retrain.run_retrain(session, rt.settings, run_id)
        if run.adopted:
            return "adopted"
        return "failed" if run.adopted is None else "refused"


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
