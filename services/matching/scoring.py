"""Scoring one offer or project against the fitted index, and closing past-deadline offers.

Workers call these with ids; the matcher does the ranking. A rescored match keeps its status,
reviewer and reason, and an undecided pair that drops out is withdrawn, never deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Match, Offer, Project
from models.enums import OfferStatus, ProjectStatus, ScoringState
from services import clock
from services.db import committing
from services.matching import mentions, similar
from services.matching.index_cache import IndexCache
from services.matching.items import document_texts, offer_item, project_item
from services.matching.store import flatten, kept_pairs, upsert_pairs, withdraw_missing


def score_offer(
    session: Session, settings: Settings, offer_id: int, *, indexes: IndexCache | None = None
) -> int:
    """Rank the open projects for one offer and store its matches; return how many.

    `indexes` is the process's cache of the fitted index (a fresh fit when None).
    """
    offer = session.get(Offer, offer_id)
    if offer is None:
        return 0  # deleted since: nothing to do, and nothing to retry
    if offer.status != OfferStatus.PUBLISHED or (
        offer.deadline is not None and offer.deadline < clock.agency_today(settings.timezone)
    ):
        return _unmatch(session, offer, Match.offer_id)
    index = (indexes or IndexCache()).current(session, settings)
    item = offer_item(offer, documents=document_texts(session, Offer, [offer.id]).get(offer.id))
    ranked = index.rank_supply(
        [item],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
    )
    similar.keep(session, similar.neighbours(index, [item]), index.version)
    pairs = flatten(ranked)
    mentions.DocumentWords(session).annotate(pairs)
    return _store(session, offer, Match.offer_id, pairs, index.version)


def score_project(
    session: Session, settings: Settings, project_id: int, *, indexes: IndexCache | None = None
) -> int:
    """Rank the open offers for one project and store its matches; return how many."""
    project = session.get(Project, project_id)
    if project is None:
        return 0
    if project.status != ProjectStatus.OPEN:
        return _unmatch(session, project, Match.project_id)
    index = (indexes or IndexCache()).current(session, settings)
    ranked = index.rank_demand(
        [project_item(project, document_texts(session, Project, [project.id]).get(project.id))],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
    )
    pairs = flatten(ranked)
    mentions.DocumentWords(session).annotate(pairs)
    return _store(session, project, Match.project_id, pairs, index.version)


def _store(session: Session, item, key, pairs, version: str) -> int:
    with committing(session):
        upsert_pairs(session, pairs, version)
        withdraw_missing(session, key, [item.id], kept_pairs(pairs))
        item.scoring_state = ScoringState.SCORED
        item.scored_at = clock.now()
    return len(pairs)


def _unmatch(session: Session, item, key) -> int:
    with committing(session):
        withdraw_missing(session, key, [item.id], [])
        item.scoring_state = ScoringState.NOT_SCORED
    return 0


def expire_offers(session: Session, settings: Settings) -> int:
    """Close published offers past their deadline and withdraw their undecided matches."""
    today = clock.agency_today(settings.timezone)
    expired = list(
        session.scalars(
            sa.select(Offer.id).where(Offer.status == OfferStatus.PUBLISHED, Offer.deadline < today)
        )
    )
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
