"""The full rebuild: fit the matcher once on every open item, rescore every open project in
chunks that any worker may take, then withdraw what no longer holds; one rebuild at a time.

Three steps, each a task (workers/scoring_tasks.py puts them in a Celery chord; the embedded
default runs them one after the other, in-process):

1. `start_rebuild` takes the lease, fits (or finds) the index version and plans the chunks.
2. `run_chunk` ranks one chunk of the version's projects and writes their matches; it is
   idempotent (pairs are upserted, decisions kept, a chunk already done is skipped), so a chunk
   redelivered after its worker died does no harm. Progress is the number of chunks done.
3. `finish_rebuild` withdraws pairs whose offer or project is no longer open, marks the job
   done, releases the lease and starts the rebuild asked for meanwhile, if any.

A request while a rebuild runs is recorded once (a queued job) and runs after it: requests are
coalesced, never lost and never run side by side.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Job, Match, Offer, Project, RebuildChunk
from models.enums import JobStatus, MatchStatus, ProjectStatus, ScoringState
from services import clock, jobs, locks, outbox, task_names
from services.db import committing
from services.errors import Conflict
from services.matching import mentions, similar
from services.matching.delta import since
from services.matching.index_cache import IndexCache, fit_version
from services.matching.items import document_texts, open_offers, open_projects, project_item
from services.matching.store import (
    flatten,
    kept_pairs,
    mark_scoring,
    upsert_pairs,
    withdraw_missing,
)

REBUILD_LOCK = "rebuild_matches"
REBUILD_KIND = "rebuild"
DEFAULT_RESCORE_MAX = 2_000  # offers added during a rebuild that its finish ranks again


class Busy(Exception):
    """The work is held by another run of the same job; try again after the lease expires."""


class Unfinished(Exception):
    """Some chunks of the rebuild are not done yet; finish it later."""


@dataclass(frozen=True)
class Plan:
    """A started rebuild: its job, the index version it ranks with, and how many chunks."""

    job_id: str
    version: str
    chunks: int


def _queued(session: Session) -> Job | None:
    return session.scalar(
        sa.select(Job)
        .where(Job.kind == REBUILD_KIND, Job.status == JobStatus.QUEUED)
        .order_by(Job.created_at, Job.id)
        .limit(1)
    )


def request_rebuild(session: Session, dedupe_key: str | None = None) -> Job:
    """Ask for a rebuild; a known dedupe_key returns its job, and so does a rebuild already
    asked for and not yet started (requests are coalesced). Queued after commit unless another
    rebuild holds the lease: that one starts this when it finishes."""
    if dedupe_key:
        existing = session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    running = locks.live_holder(session, REBUILD_LOCK)
    job = _queued(session)
    if job is not None:
        if running is None:  # its sender may have died: sending it again is harmless
            _send(session, job)
        return job
    job = Job(
        id=str(uuid.uuid4()), kind=REBUILD_KIND, status=JobStatus.QUEUED, dedupe_key=dedupe_key
    )
    try:
        with committing(session):
            session.add(job)
            if running is None:
                outbox.add(session, task_names.REBUILD_MATCHES, [job.id])
            else:
                job.detail = f"waits for rebuild {running}"
    except Conflict:  # another beat process made the same day's job a moment ago
        return session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
    outbox.dispatch(session)
    session.refresh(job)
    return job


def _send(session: Session, job: Job) -> None:
    with committing(session):
        outbox.add(session, task_names.REBUILD_MATCHES, [job.id])
    outbox.dispatch(session)


def request_nightly_rebuild(session: Session, settings: Settings) -> Job:
    """Queue the agency day's rebuild once, however many beat processes ask."""
    today = clock.agency_today(settings.timezone)
    return request_rebuild(session, dedupe_key=f"nightly-rebuild:{today.isoformat()}")


def start_rebuild(
    session: Session, settings: Settings, job_id: str, indexes: IndexCache
) -> Plan | None:
    """Take the lease, fit (or find) the index version and plan the chunks.

    None when there is nothing to run now: the job is finished, or another rebuild holds the
    lease (the job stays queued and that rebuild starts it when it finishes).
    """
    job = jobs.get_job(session, job_id)
    if job.status in (JobStatus.DONE, JobStatus.SKIPPED):
        return None
    if not locks.acquire(session, REBUILD_LOCK, job_id, settings.lock_ttl):
        running = locks.holder(session, REBUILD_LOCK)
        if running == job_id:
            raise Busy(f"job {job_id} is still held by an earlier attempt")
        with committing(session):
            job.detail = f"waits for rebuild {running}"
        return None
    try:
        with committing(session):
            job.status = JobStatus.RUNNING
            job.started_at = job.started_at or clock.now()
            job.attempts = (job.attempts or 0) + 1
            job.detail = "fitting the matcher"
        version = fit_version(session, settings).id
        total = len(indexes.load(settings, version).demand.ids)
        chunks = math.ceil(total / max(settings.rebuild_chunk, 1))
        with committing(session):
            if job.subject != version:  # an earlier attempt ranked with another version
                session.execute(sa.delete(RebuildChunk).where(RebuildChunk.job_id == job.id))
            job.subject = version
            job.total = chunks
            job.done = _chunks_done(session, job.id)
            job.detail = f"matcher {version}: {total} projects in {chunks} chunks"
    except Exception as exc:
        _failed(session, job, exc)
        raise
    return Plan(job.id, version, chunks)


def _chunks_done(session: Session, job_id: str) -> int:
    count = sa.select(sa.func.count()).where(RebuildChunk.job_id == job_id)
    return session.scalar(count) or 0


def _failed(session: Session, job: Job, exc: Exception) -> None:
    session.rollback()
    with committing(session):
        job.detail = f"{type(exc).__name__}: {exc}"[:4000]
    locks.release(session, REBUILD_LOCK, job.id)


def chunk_ids(index_ids: list, chunk: int, size: int) -> list[int]:
    """The project ids of chunk number `chunk` (chunks of `size` in the version's order)."""
    size = max(size, 1)
    return [int(i) for i in index_ids[chunk * size : (chunk + 1) * size]]


def run_chunk(
    session: Session,
    settings: Settings,
    job_id: str,
    version: str,
    chunk: int,
    indexes: IndexCache,
    worker: str | None = None,
) -> int:
    """Rank one chunk of projects with `version` and store their matches; return the pairs.
    `worker` names who ran it (kept with the chunk).

    A chunk already done is skipped; two copies at once write the same rows, and the second to
    commit fails on the chunk's row and finds it done when retried.
    """
    if session.get(RebuildChunk, (job_id, chunk)) is not None:
        return 0
    loaded = indexes.version(session, settings, version)
    ids = chunk_ids(loaded.index.demand.ids, chunk, settings.rebuild_chunk)
    projects = session.scalars(open_projects().where(Project.id.in_(ids))).unique()
    delta = since(session, settings, loaded)  # offers added meanwhile are ranked too
    docs = document_texts(session, Project, ids)
    pairs = flatten(
        loaded.index.rank_demand(
            [project_item(p, docs.get(p.id)) for p in projects],
            top_k=settings.match_top_k,
            min_score=settings.match_min_score,
            explain=True,
            added=delta.offers,
            stale=delta.stale_offers,
        )
    )
    mentions.DocumentWords(session).annotate(pairs)
    # "more like this": this chunk's share of the fitted offers (all chunks cover them all)
    chunks = math.ceil(len(loaded.index.demand.ids) / max(settings.rebuild_chunk, 1))
    rows = similar.chunk_rows(len(loaded.index.supply.ids), chunk, chunks)
    neighbours = similar.neighbours(loaded.index, None, rows)
    with committing(session):
        upsert_pairs(session, pairs, version)
        withdraw_missing(session, Match.project_id, ids, kept_pairs(pairs))
        mark_scoring(session, Project, ids, ScoringState.SCORED)
        similar.keep(session, neighbours, loaded.version)
        session.add(RebuildChunk(job_id=job_id, chunk=chunk, rows=len(pairs), worker=worker))
        session.flush()
        session.execute(sa.update(Job).where(Job.id == job_id).values(done=Job.done + 1))
    locks.refresh(session, REBUILD_LOCK, job_id, settings.lock_ttl)
    return len(pairs)


def finish_rebuild(
    session: Session, settings: Settings, job_id: str, indexes: IndexCache | None = None
) -> Job:
    """Withdraw the undecided pairs whose offer or project is no longer open, give the offers
    added during the rebuild their own best projects again, mark the offers scored and the job
    done, release the lease, and start the rebuild asked for meanwhile."""
    job = jobs.get_job(session, job_id)
    if job.status == JobStatus.DONE:
        return job
    indexes = indexes or IndexCache()
    done = _chunks_done(session, job_id)
    if done < job.total:
        raise Unfinished(f"rebuild {job_id}: {done} of {job.total} chunks done")
    today = clock.agency_today(settings.timezone)
    still_open = open_offers(today).with_only_columns(Offer.id).order_by(None)
    with committing(session):
        closed_projects = sa.select(Project.id).where(Project.status != ProjectStatus.OPEN)
        session.execute(
            sa.update(Match)
            .where(
                Match.status == MatchStatus.PROPOSED,
                sa.or_(Match.project_id.in_(closed_projects), Match.offer_id.not_in(still_open)),
            )
            .values(status=MatchStatus.WITHDRAWN)
        )
        # Only those not marked yet: each row rewritten also rewrites its search indexes.
        unmarked = still_open.where(Offer.scoring_state != ScoringState.SCORED)
        mark_scoring(session, Offer, unmarked, ScoringState.SCORED)
        _rescore_added_offers(session, settings, job.subject, indexes)
        if not job.total:  # no projects, no chunks: "more like this" for every offer here
            loaded = indexes.version(session, settings, job.subject)
            similar.keep(session, similar.neighbours(loaded.index, None), loaded.version)
        job.status = JobStatus.DONE
        job.done = job.total
        job.finished_at = clock.now()
    _hand_over(session, job_id)
    return job


def _hand_over(session: Session, job_id: str) -> None:
    """Release the lease and start the rebuild asked for while this one ran, if any."""
    locks.release(session, REBUILD_LOCK, job_id)
    waiting = _queued(session)
    if waiting is not None:
        _send(session, waiting)


def _rescore_added_offers(
    session: Session, settings: Settings, version: str, indexes: IndexCache
) -> None:
    """Upsert the best projects of each offer added or edited since the fit.

    A chunk keeps a project's best offers and withdraws its other pairs, among them the pairs
    a new offer's own scoring made during the rebuild; this gives them back. Past
    DEFAULT_RESCORE_MAX such offers the drift has asked for the next rebuild, which does it.
    """
    loaded = indexes.version(session, settings, version)
    delta = since(session, settings, loaded)
    if not delta.offers or len(delta.offers) > DEFAULT_RESCORE_MAX:
        return
    ranked = loaded.index.rank_supply(
        delta.offers,
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
        added=delta.projects,
        stale=delta.stale_projects,
    )
    upsert_pairs(session, flatten(ranked), version)


def fail_rebuild(session: Session, job_id: str, error: str) -> Job:
    """Mark a rebuild whose chunk failed for good as failed, release its lease and start the
    rebuild asked for meanwhile (the chunks done keep their rows)."""
    job = jobs.get_job(session, job_id)
    if job.status in (JobStatus.DONE, JobStatus.FAILED):
        return job
    with committing(session):
        job.status = JobStatus.FAILED
        job.detail = f"a chunk failed: {error}"[:4000]
        job.finished_at = clock.now()
    _hand_over(session, job_id)
    return job


def run_rebuild(
    session: Session, settings: Settings, job_id: str, *, indexes: IndexCache | None = None
) -> Job:
    """Run the whole rebuild in this process: start, every chunk in turn, finish.

    The embedded default's way (and a script's); workers run the same steps as a chord.
    """
    indexes = indexes or IndexCache()
    plan = start_rebuild(session, settings, job_id, indexes)
    job = jobs.get_job(session, job_id)
    if plan is None:
        return job
    try:
        for chunk in range(plan.chunks):
            run_chunk(session, settings, job_id, plan.version, chunk, indexes)
        return finish_rebuild(session, settings, job_id, indexes)
    except Exception as exc:
        _failed(session, job, exc)
        raise
