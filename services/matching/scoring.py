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
from services.matching.delta import Delta, since
from services.matching.index_cache import IndexCache, Loaded
from services.matching.items import document_texts, offer_item, project_item
from services.matching.rebuild import request_rebuild
from services.matching.store import (
    flatten,
    kept_pairs,
    mark_scoring,
    upsert_pairs,
    withdraw_missing,
)


def score_offer(
    session: Session, settings: Settings, offer_id: int, *, indexes: IndexCache | None = None
) -> int:
    """Rank the open projects for one offer and store its matches; return how many.

    The projects are the current index version's and those new or edited since it was fitted;
    `indexes` is the process's cache of loaded versions (a fresh one when None).
    """
    offer = session.get(Offer, offer_id)
    if offer is None:
        return 0  # deleted since: nothing to do, and nothing to retry
    if offer.status != OfferStatus.PUBLISHED or (
        offer.deadline is not None and offer.deadline < clock.agency_today(settings.timezone)
    ):
        return _unmatch(session, offer, Match.offer_id)
    loaded = (indexes or IndexCache()).current(session, settings)
    delta = since(session, settings, loaded)
    item = offer_item(offer, documents=document_texts(session, Offer, [offer.id]).get(offer.id))
    ranked = loaded.index.rank_supply(
        [item],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
        added=delta.projects,
        stale=delta.stale_projects,
    )
    similar.keep(session, similar.neighbours(loaded.index, [item]), loaded.version)
    pairs = flatten(ranked)
    mentions.DocumentWords(session).annotate(pairs)
    stored = _store(session, offer, Match.offer_id, pairs, loaded.version)
    _refit_on_drift(session, settings, loaded, delta)
    return stored


def score_project(
    session: Session, settings: Settings, project_id: int, *, indexes: IndexCache | None = None
) -> int:
    """Rank the open offers (the index's and those new or edited since) for one project and
    store its matches; return how many."""
    project = session.get(Project, project_id)
    if project is None:
        return 0
    if project.status != ProjectStatus.OPEN:
        return _unmatch(session, project, Match.project_id)
    loaded = (indexes or IndexCache()).current(session, settings)
    delta = since(session, settings, loaded)
    ranked = loaded.index.rank_demand(
        [project_item(project, document_texts(session, Project, [project.id]).get(project.id))],
        top_k=settings.match_top_k,
        min_score=settings.match_min_score,
        explain=True,
        added=delta.offers,
        stale=delta.stale_offers,
    )
    pairs = flatten(ranked)
    mentions.DocumentWords(session).annotate(pairs)
    stored = _store(session, project, Match.project_id, pairs, loaded.version)
    _refit_on_drift(session, settings, loaded, delta)
    return stored


def _refit_on_drift(session: Session, settings: Settings, loaded: Loaded, delta: Delta) -> None:
    """Ask for a rebuild (coalesced with any other) once the new items outgrow the fit."""
    fitted = len(loaded.index.supply) + len(loaded.index.demand)
    if delta.drifted(fitted, settings.refit_drift):
        request_rebuild(session)


def _store(session: Session, item, key, pairs, version: str) -> int:
    with committing(session):
        upsert_pairs(session, pairs, version)
        withdraw_missing(session, key, [item.id], kept_pairs(pairs))
        mark_scoring(session, type(item), [item.id], ScoringState.SCORED)
    return len(pairs)


def _unmatch(session: Session, item, key) -> int:
    with committing(session):
        withdraw_missing(session, key, [item.id], [])
        mark_scoring(session, type(item), [item.id], ScoringState.NOT_SCORED)
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
