"""Mark offers and projects for scoring, in the caller's transaction, through the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Match, Offer, Project
from models.enums import MatchStatus, OfferStatus, ProjectStatus, ScoringState
from services import outbox

SCORE_OFFER = "scoring.score_offer"
SCORE_PROJECT = "scoring.score_project"


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
        task = SCORE_OFFER if isinstance(item, Offer) else SCORE_PROJECT
        outbox.add(session, task, [item.id])
        return
    item.scoring_state = ScoringState.NOT_SCORED
    withdraw_missing(
        session, Match.offer_id if isinstance(item, Offer) else Match.project_id, [item.id], []
    )


def withdraw_missing(session: Session, key, item_ids: list[int], kept: list[tuple[int, int]]):
    """Withdraw the proposed matches of `item_ids` (by `key`) that are not among `kept` pairs.

    Here rather than in services.scoring so that queueing does not import the matcher.
    """
    query = sa.update(Match).where(key.in_(item_ids), Match.status == MatchStatus.PROPOSED)
    if kept:
        query = query.where(sa.tuple_(Match.project_id, Match.offer_id).not_in(kept))
    return session.execute(query.values(status=MatchStatus.WITHDRAWN)).rowcount


def _mark_queued(model):
    def hook(session: Session, args: list) -> None:
        session.execute(
            sa.update(model)
            .where(model.id == args[0], model.scoring_state == ScoringState.WAITING)
            .values(scoring_state=ScoringState.QUEUED)
        )

    return hook


outbox.after_send(SCORE_OFFER)(_mark_queued(Offer))
outbox.after_send(SCORE_PROJECT)(_mark_queued(Project))
