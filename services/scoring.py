"""Scoring use cases: fit the matcher on open items, score one item, rebuild, expire offers.

Workers call these with ids; the matcher does the ranking, these functions read items from the
database, write matches, and keep people's decisions: a rescored match keeps its status,
reviewer and reason, and an undecided pair that drops out is withdrawn, never deleted.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from matcher import MatchIndex, MatchWeights, ScoredPair
from models import Alliance, Job, Match, Offer, Project
from models.enums import (
    AllianceStage,
    JobStatus,
    MatchStatus,
    OfferStatus,
    ProjectStatus,
    ScoringState,
)
from services import locks, outbox
from services.db import committing, fetch
from services.errors import Conflict
from services.scoring_queue import withdraw_missing

log = logging.getLogger(__name__)

REBUILD_LOCK = "rebuild_matches"
REBUILD_TASK = "scoring.rebuild_matches"
DEFAULT_REFIT_SMALL = 5_000  # below this many open items, any change refits (it is cheap)
DEFAULT_REFIT_AGE = 900.0  # seconds: a larger corpus refits at most this often on change
UPSERT_CHUNK = 1_000
DEFAULT_RECORD_MAX = 100  # an ally's newest alliances the matcher learns what it funds from


class Busy(Exception):
    """The work is held by another run of the same job; try again after the lease expires."""


def agency_today(settings: Settings) -> date:
    """Today in the agency's time zone: deadlines are the agency's days."""
    return datetime.now(ZoneInfo(settings.timezone)).date()


def _plain(value):
    return None if value is None else float(value)


def offer_item(offer: Offer, record: list[str] | None = None) -> dict:
    """The matcher's view of an offer; `ally` ties it to its organisation's record, which one
    offer per organisation carries (see ally_records)."""
    item = {
        "id": offer.id,
        "title": offer.title,
        "description": offer.description,
        "lang": offer.language,
        "lines": list(offer.lines or []),
        "sdgs": list(offer.sdgs or []),
        "modalities": list(offer.modalities or []),
        "amount_min": _plain(offer.amount_min),
        "amount_max": _plain(offer.amount_max),
        "currency": offer.currency,
        "deadline": offer.deadline.isoformat() if offer.deadline else None,
        "eligible_kinds": list(offer.eligible_kinds or []),
        "eligible_countries": list(offer.eligible_countries or []),
        "kind": str(offer.organization.kind),
        "country": offer.organization.country,
        "ally": f"org-{offer.organization_id}",
    }
    if record:
        item["record"] = record
    return item


def ally_records(session: Session) -> dict[int, list[str]]:
    """Per organisation, the projects of its alliances ("title: description", newest first, at
    most DEFAULT_RECORD_MAX): what it has funded, for the matcher to learn its profile from."""
    rows = session.execute(
        sa.select(Offer.organization_id, Project.id, Project.title, Project.description)
        .select_from(Alliance)
        .join(Match, Alliance.match_id == Match.id)
        .join(Offer, Match.offer_id == Offer.id)
        .join(Project, Match.project_id == Project.id)
        .where(Alliance.stage != AllianceStage.DROPPED)  # a dropped alliance funded nothing
        .order_by(Offer.organization_id, Alliance.started_on.desc(), Alliance.id.desc())
    )
    records: dict[int, list[str]] = {}
    seen: set[tuple[int, int]] = set()
    for org_id, project_id, title, description in rows:
        texts = records.setdefault(org_id, [])
        if (org_id, project_id) not in seen and len(texts) < DEFAULT_RECORD_MAX:
            seen.add((org_id, project_id))
            texts.append(f"{title}: {description}")
    return records


def project_item(project: Project) -> dict:
    """The matcher's view of a project; kind and country are its responsible entity's."""
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "lang": project.language,
        "lines": list(project.lines or []),
        "sdgs": list(project.sdgs or []),
        "modalities": list(project.modalities or []),
        "budget": _plain(project.budget),
        "cofinancing": _plain(project.cofinancing),
        "currency": project.currency,
        "kind": str(project.organization.kind),
        "country": project.organization.country,
    }


def _open_offers(today: date) -> sa.Select:
    return (
        sa.select(Offer)
        .where(Offer.status == OfferStatus.PUBLISHED)
        .where(sa.or_(Offer.deadline.is_(None), Offer.deadline >= today))
        .order_by(Offer.id)
    )


def _open_projects() -> sa.Select:
    return sa.select(Project).where(Project.status == ProjectStatus.OPEN).order_by(Project.id)


def _signature(session: Session, today: date) -> tuple:
    """What the fitted corpus depends on: counts and last changes of open items and of
    alliances (the allies' records), and the day."""
    parts = [today.isoformat()]
    for query in (_open_offers(today), _open_projects()):
        sub = query.order_by(None).subquery()
        count, last = session.execute(
            sa.select(sa.func.count(), sa.func.max(sub.c.updated_at)).select_from(sub)
        ).one()
        parts += [count, str(last)]
    count, last = session.execute(
        sa.select(sa.func.count(), sa.func.max(Alliance.updated_at)).select_from(Alliance)
    ).one()
    return (*parts, count, str(last))  # a new alliance changes an ally's record


@dataclass
class _Fitted:
    index: MatchIndex
    signature: tuple
    fitted_at: float
    size: int


_cache: dict[str, _Fitted] = {}
_cache_lock = threading.Lock()


def fit_index(session: Session, settings: Settings, today: date | None = None) -> MatchIndex:
    """Fit a new index on every published, not yet closed offer and every open project."""
    today = today or agency_today(settings)
    records = ally_records(session)
    supply = []
    for offer in session.scalars(_open_offers(today)).unique():
        supply.append(offer_item(offer, records.pop(offer.organization_id, None)))  # once each
    demand = [project_item(p) for p in session.scalars(_open_projects()).unique()]
    return MatchIndex.fit(
        supply,
        demand,
        weights=MatchWeights.from_mapping(settings.match_weights),
        today=today,
        rates=settings.usd_rates,
    )


def current_index(session: Session, settings: Settings, force: bool = False) -> MatchIndex:
    """Return this process's fitted index, refitting when the corpus has drifted.

    Any change refits a small corpus; a large one refits at most every DEFAULT_REFIT_AGE
    seconds, and new items in between are ranked against the fitted index without refitting.
    """
    today = agency_today(settings)
    signature = _signature(session, today)
    key = settings.database_url
    with _cache_lock:
        cached = _cache.get(key)
        stale = (
            cached is None
            or force
            or cached.signature[0] != signature[0]
            or (
                cached.signature != signature
                and (
                    cached.size < DEFAULT_REFIT_SMALL
                    or time.monotonic() - cached.fitted_at > DEFAULT_REFIT_AGE
                )
            )
        )
        if stale:
            index = fit_index(session, settings, today)
            cached = _Fitted(
                index, signature, time.monotonic(), len(index.supply) + len(index.demand)
            )
            _cache[key] = cached
        return cached.index


def forget_index() -> None:
    """Drop the cached index (tests, and after a rebuild in another process)."""
    with _cache_lock:
        _cache.clear()


# -- writing matches --------------------------------------------------------------------------


def _insert(session: Session):
    return (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )(Match)


def upsert_pairs(session: Session, pairs: list[ScoredPair], version: str) -> int:
    """Insert or rescore matches, one row per pair; people's decisions stay as they are."""
    rows = [
        {
            "project_id": int(p.demand_id),
            "offer_id": int(p.supply_id),
            "score": float(p.score),
            "components": p.components,
            "explanation": p.explanation,
            "status": MatchStatus.PROPOSED.value,
            "matcher_version": version,
        }
        for p in pairs
    ]
    for start in range(0, len(rows), UPSERT_CHUNK):
        stmt = _insert(session)
        excluded = stmt.excluded
        # An undecided pair that had been withdrawn comes back; a decided one keeps its status.
        revived = sa.case(
            (
                sa.and_(Match.status == MatchStatus.WITHDRAWN.value, Match.reviewer_id.is_(None)),
                MatchStatus.PROPOSED.value,
            ),
            else_=Match.status,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["project_id", "offer_id"],
            set_={
                "score": excluded.score,
                "components": excluded.components,
                "explanation": excluded.explanation,
                "matcher_version": excluded.matcher_version,
                "status": revived,
                "updated_at": sa.func.now(),
            },
        )
        # Core executemany on the session's connection: the ORM's bulk path adds nothing here.
        session.connection().execute(stmt, rows[start : start + UPSERT_CHUNK])
    return len(rows)


def _pairs_of(results: list[list[ScoredPair]]) -> list[ScoredPair]:
    return [pair for ranked in results for pair in ranked]


# -- use cases --------------------------------------------------------------------------------


def score_offer(session: Session, settings: Settings, offer_id: int) -> int:
    """Rank the open projects for one offer and store its matches; return how many."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        return 0  # deleted since: nothing to do, and nothing to retry
    if offer.status != OfferStatus.PUBLISHED or (
        offer.deadline is not None and offer.deadline < agency_today(settings)
    ):
        return _unmatch(session, offer, Match.offer_id)
    index = current_index(session, settings)
    ranked = index.rank_supply(
        [offer_item(offer)],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
    )
    return _store(session, offer, Match.offer_id, _pairs_of(ranked), index.version)


def score_project(session: Session, settings: Settings, project_id: int) -> int:
    """Rank the open offers for one project and store its matches; return how many."""
    project = session.get(Project, project_id)
    if project is None:
        return 0
    if project.status != ProjectStatus.OPEN:
        return _unmatch(session, project, Match.project_id)
    index = current_index(session, settings)
    ranked = index.rank_demand(
        [project_item(project)],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
    )
    return _store(session, project, Match.project_id, _pairs_of(ranked), index.version)


def _store(session: Session, item, key, pairs: list[ScoredPair], version: str) -> int:
    with committing(session):
        upsert_pairs(session, pairs, version)
        withdraw_missing(
            session, key, [item.id], [(int(p.demand_id), int(p.supply_id)) for p in pairs]
        )
        item.scoring_state = ScoringState.SCORED
        item.scored_at = datetime.now(UTC)
    return len(pairs)


def _unmatch(session: Session, item, key) -> int:
    with committing(session):
        withdraw_missing(session, key, [item.id], [])
        item.scoring_state = ScoringState.NOT_SCORED
    return 0


def mark_failed(session: Session, task: str, args: list, error: str) -> Job:
    """Record a task that failed after its last retry where staff can see it."""
    subject = None
    model = {"scoring.score_offer": Offer, "scoring.score_project": Project}.get(task)
    if model is not None and args:
        subject = f"{model.__tablename__[:-1]}:{args[0]}"
        session.execute(
            sa.update(model).where(model.id == args[0]).values(scoring_state=ScoringState.FAILED)
        )
    now = datetime.now(UTC)
    job = Job(
        id=str(uuid.uuid4()),
        kind=task,
        status=JobStatus.FAILED,
        subject=subject,
        detail=error[:4000],
        started_at=now,
        finished_at=now,
    )
    with committing(session):
        session.add(job)
    return job


# -- rebuild ----------------------------------------------------------------------------------


def request_rebuild(session: Session, dedupe_key: str | None = None) -> Job:
    """Create a rebuild job and queue it after commit; a known dedupe_key returns its job."""
    if dedupe_key:
        existing = session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(id=str(uuid.uuid4()), kind="rebuild", status=JobStatus.QUEUED, dedupe_key=dedupe_key)
    try:
        with committing(session):
            session.add(job)
            outbox.add(session, REBUILD_TASK, [job.id])
    except Conflict:  # another beat process made the same day's job a moment ago
        return session.scalar(sa.select(Job).where(Job.dedupe_key == dedupe_key))
    outbox.dispatch(session)
    session.refresh(job)
    return job


def get_job(session: Session, job_id: str) -> Job:
    return fetch(session, Job, job_id, "job")


def run_rebuild(session: Session, settings: Settings, job_id: str) -> Job:
    """Refit on all open items and rescore every open project in chunks, with progress.

    Safe to run again for the same job (after a worker died): upserts are idempotent and the
    run resumes from the last chunk it committed. Only one rebuild runs at a time.
    """
    job = get_job(session, job_id)
    if job.status in (JobStatus.DONE, JobStatus.SKIPPED):
        return job
    if not locks.acquire(session, REBUILD_LOCK, job_id, settings.lock_ttl):
        running = locks.holder(session, REBUILD_LOCK)
        if running == job_id:
            raise Busy(f"job {job_id} is still held by an earlier attempt")
        with committing(session):
            job.status = JobStatus.SKIPPED
            job.detail = f"another rebuild ({running}) was running"
            job.finished_at = datetime.now(UTC)
        return job
    try:
        _rebuild_chunks(session, settings, job)
    except Exception as exc:
        session.rollback()
        with committing(session):
            job.detail = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        locks.release(session, REBUILD_LOCK, job_id)
    return job


def _rebuild_chunks(session: Session, settings: Settings, job: Job) -> None:
    index = current_index(session, settings, force=True)
    project_ids = [int(i) for i in index.demand.ids]
    with committing(session):
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or datetime.now(UTC)
        job.attempts = (job.attempts or 0) + 1
        job.total = len(project_ids)
        job.done = min(job.done or 0, job.total)
    chunk = max(settings.rebuild_chunk, 1)
    by_id = {p.id: p for p in session.scalars(_open_projects()).unique()}
    for start in range(job.done, len(project_ids), chunk):
        ids = project_ids[start : start + chunk]
        items = [project_item(by_id[i]) for i in ids if i in by_id]
        pairs = _pairs_of(
            index.rank_demand(
                items, top_k=settings.match_top_k, min_score=settings.match_min_score, explain=True
            )
        )
        with committing(session):
            upsert_pairs(session, pairs, index.version)
            withdraw_missing(
                session,
                Match.project_id,
                ids,
                [(int(p.demand_id), int(p.supply_id)) for p in pairs],
            )
            session.execute(
                sa.update(Project)
                .where(Project.id.in_(ids))
                .values(scoring_state=ScoringState.SCORED, scored_at=datetime.now(UTC))
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
            .values(scoring_state=ScoringState.SCORED, scored_at=datetime.now(UTC))
        )
        job.status = JobStatus.DONE
        job.finished_at = datetime.now(UTC)
        job.detail = (
            f"matcher {index.version}: {len(project_ids)} projects x {len(offer_ids)} offers"
        )


def expire_offers(session: Session, settings: Settings) -> int:
    """Close published offers past their deadline and withdraw their undecided matches."""
    today = agency_today(settings)
    expired = [
        i
        for (i,) in session.execute(
            sa.select(Offer.id).where(Offer.status == OfferStatus.PUBLISHED, Offer.deadline < today)
        )
    ]
    if not expired:
        return 0
    with committing(session):
        session.execute(
            sa.update(Offer)
            .where(Offer.id.in_(expired))
            .values(status=OfferStatus.CLOSED, scoring_state=ScoringState.NOT_SCORED)
        )
        withdraw_missing(session, Match.offer_id, expired, [])
    return len(expired)


def sweep(session: Session) -> int:
    """Send what waits in the outbox (broker was down, or a process died after commit)."""
    return outbox.dispatch(session)
