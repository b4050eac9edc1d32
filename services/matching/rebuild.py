"""The full rebuild: refit the matcher on every open item and rescore every open project in
chunks, with progress, one rebuild at a time (a lease in the database)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Job, Match, Offer, Project
from models.enums import JobStatus, MatchStatus, ScoringState
from services import clock, jobs, locks, outbox, task_names
from services.db import committing
from services.errors import Conflict
from services.matching import mentions, similar
from services.matching.index_cache import IndexCache
from services.matching.items import document_texts, open_projects, project_item
from services.matching.store import flatten, kept_pairs, upsert_pairs, withdraw_missing

REBUILD_LOCK = "rebuild_matches"
REBUILD_KIND = "rebuild"


class Busy(Exception):
    """The work is held by another run of the same job; try again after the lease expires."""


def request_rebuild(session: Session, dedupe_key: str | None = None) -> Job:
    """Create a rebuild job and queue it after commit; a known dedupe_key returns its job."""
    if dedupe_key:
        existing = session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(
        id=str(uuid.uuid4()), kind=REBUILD_KIND, status=JobStatus.QUEUED, dedupe_key=dedupe_key
    )
    try:
        with committing(session):
            session.add(job)
            outbox.add(session, task_names.REBUILD_MATCHES, [job.id])
    except Conflict:  # another beat process made the same day's job a moment ago
        return session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
    outbox.dispatch(session)
    session.refresh(job)
    return job


def request_nightly_rebuild(session: Session, settings: Settings) -> Job:
    """Queue the agency day's rebuild once, however many beat processes ask."""
    today = clock.agency_today(settings.timezone)
    return request_rebuild(session, dedupe_key=f"nightly-rebuild:{today.isoformat()}")


def run_rebuild(
    session: Session, settings: Settings, job_id: str, *, indexes: IndexCache | None = None
) -> Job:
    """Refit on all open items and rescore every open project in chunks, with progress.

    Safe to run again for the same job (after a worker died): upserts are idempotent and the
    run resumes from the last chunk it committed. Only one rebuild runs at a time.
    """
    job = jobs.get_job(session, job_id)
    if job.status in (JobStatus.DONE, JobStatus.SKIPPED):
        return job
    if not locks.acquire(session, REBUILD_LOCK, job_id, settings.lock_ttl):
        running = locks.holder(session, REBUILD_LOCK)
        if running == job_id:
            raise Busy(f"job {job_id} is still held by an earlier attempt")
        with committing(session):
            job.status = JobStatus.SKIPPED
            job.detail = f"another rebuild ({running}) was running"
            job.finished_at = clock.now()
        return job
    try:
        _rebuild_chunks(session, settings, job, indexes or IndexCache())
    except Exception as exc:
        session.rollback()
        with committing(session):
            job.detail = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        locks.release(session, REBUILD_LOCK, job_id)
    return job


def _rebuild_chunks(session: Session, settings: Settings, job: Job, indexes: IndexCache) -> None:
    index = indexes.current(session, settings, force=True)
    project_ids = [int(i) for i in index.demand.ids]
    with committing(session):
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or clock.now()
        job.attempts = (job.attempts or 0) + 1
        job.total = len(project_ids)
        job.done = min(job.done or 0, job.total)
    chunk = max(settings.rebuild_chunk, 1)
    by_id = {p.id: p for p in session.scalars(open_projects()).unique()}
    words = mentions.DocumentWords(session)
    for start in range(job.done, len(project_ids), chunk):
        ids = project_ids[start : start + chunk]
        docs = document_texts(session, Project, ids)
        items = [project_item(by_id[i], docs.get(i)) for i in ids if i in by_id]
        pairs = flatten(
            index.rank_demand(
                items, top_k=settings.match_top_k, min_score=settings.match_min_score, explain=True
            )
        )
        words.annotate(pairs)
        with committing(session):
            upsert_pairs(session, pairs, index.version)
            withdraw_missing(session, Match.project_id, ids, kept_pairs(pairs))
            session.execute(
                sa.update(Project)
                .where(Project.id.in_(ids))
                .values(scoring_state=ScoringState.SCORED, scored_at=clock.now())
            )
            job.done = start + len(ids)
        locks.refresh(session, REBUILD_LOCK, job.id, settings.lock_ttl)
    offer_ids = [int(i) for i in index.supply.ids]
    with committing(session):
        # Pairs whose offer or project is no longer open were not rescored: withdraw them.
        session.execute(
            sa.update(Match)
            .where(
                Match.status == MatchStatus.PROPOSED,
                sa.or_(
                    Match.project_id.not_in(project_ids or [-1]),
                    Match.offer_id.not_in(offer_ids or [-1]),
                ),
            )
            .values(status=MatchStatus.WITHDRAWN)
        )
        session.execute(
            sa.update(Offer)
            .where(Offer.id.in_(offer_ids or [-1]))
            .values(scoring_state=ScoringState.SCORED, scored_at=clock.now())
        )
        similar.keep(session, similar.neighbours(index, None), index.version)
        job.status = JobStatus.DONE
        job.finished_at = clock.now()
        job.detail = (
            f"matcher {index.version}: {len(project_ids)} projects x {len(offer_ids)} offers"
        )
