"""Ask for offers and projects to be scored, in the caller's transaction, through the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import Match, Offer, Project
from models.enums import OfferStatus, ProjectStatus, ScoringState
from services import outbox, task_names
from services.matching.store import withdraw_missing


def is_matchable(item: Offer | Project) -> bool:
    """Only published offers and open projects are matched."""
    if isinstance(item, Offer):
        return item.status == OfferStatus.PUBLISHED
    return item.status == ProjectStatus.OPEN


def queue_scoring(session: Session, item: Offer | Project) -> None:
    """Within the caller's transaction, ask for `item` to be scored (or unmatched if closed).

    The caller commits, then calls `outbox.dispatch(session)`.
    """
    session.flush()
    if is_matchable(item):
        item.scoring_state = ScoringState.WAITING
        task = task_names.SCORE_OFFER if isinstance(item, Offer) else task_names.SCORE_PROJECT
        outbox.add(session, task, [item.id])
        return
    item.scoring_state = ScoringState.NOT_SCORED
    key = Match.offer_id if isinstance(item, Offer) else Match.project_id
    withdraw_missing(session, key, [item.id], [])
