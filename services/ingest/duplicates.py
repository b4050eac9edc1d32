"""The same call twice: flagged for staff ("possible duplicate of #N"), merged by them.

A new feed offer is compared with the offers of the same ally and the same deadline that are
still live (another source's copy of the call, or one typed in by staff): when the matcher's
text similarity reaches DEFAULT_DUPLICATE_SIMILARITY the new offer is flagged. Merging keeps
the other offer, moves the duplicate's matches there (a decided match wins over an undecided
one of the same project, so decisions and alliances stay), withdraws the duplicate with the
reason "merged into #N", and records both in the audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from matcher.similarity import DEFAULT_DUPLICATE_SIMILARITY, similarities
from models import Match, Offer
from models.enums import MatchStatus, OfferStatus
from services import audit, outbox
from services.db import committing, fetch
from services.errors import Conflict, NotFound
from services.matching.queue import queue_scoring

LIVE = (OfferStatus.SUBMITTED, OfferStatus.PUBLISHED)
UNDECIDED = (MatchStatus.PROPOSED, MatchStatus.WITHDRAWN)


def find_duplicate(session: Session, offer: Offer) -> Offer | None:
    """The live offer most like `offer` (same ally and deadline, alike texts), if any."""
    if offer.deadline is None:
        return None
    query = (
        sa.select(Offer)
        .where(Offer.organization_id == offer.organization_id)
        .where(Offer.deadline == offer.deadline)
        .where(Offer.status.in_(LIVE))
        .where(Offer.id != offer.id)
        .order_by(Offer.id)
        .limit(20)
    )
    candidates = [c for c in session.scalars(query) if c.duplicate_of_id is None]
    if not candidates:
        return None
    scores = similarities(
        (offer.title, offer.description, offer.language),
        [(c.title, c.description, c.language) for c in candidates],
    )
    best = int(scores.argmax())
    return candidates[best] if scores[best] >= DEFAULT_DUPLICATE_SIMILARITY else None


def flagged(session: Session, limit: int = 200) -> list[Offer]:
    """Live offers flagged as possible duplicates, newest first."""
    return list(
        session.scalars(
            sa.select(Offer)
            .where(Offer.duplicate_of_id.is_not(None), Offer.status.in_(LIVE))
            .order_by(Offer.id.desc())
            .limit(limit)
        )
    )


def flagged_offer(session: Session, offer_id: int) -> Offer:
    """The offer `offer_id`, which must be flagged as a possible duplicate (else NotFound)."""
    offer = fetch(session, Offer, offer_id, "offer")
    if offer.duplicate_of_id is None:
        raise NotFound(f"offer {offer_id} is not flagged as a possible duplicate")
    return offer


def _move_matches(session: Session, duplicate: Offer, kept: Offer) -> int:
    kept_by_project = {
        m.project_id: m for m in session.scalars(sa.select(Match).where(Match.offer_id == kept.id))
    }
    moved = 0
    for match in session.scalars(sa.select(Match).where(Match.offer_id == duplicate.id)):
        other = kept_by_project.get(match.project_id)
        if other is not None:
            if match.status in UNDECIDED or other.status not in UNDECIDED:
                continue  # the kept offer's match stands; the duplicate's is withdrawn below
            session.delete(other)
            session.flush()
        match.offer_id = kept.id
        moved += 1
    return moved


def merge(session: Session, duplicate_id: int, kept_id: int, user_id: int | None) -> Offer:
    """Merge offer `duplicate_id` into `kept_id`; returns the kept offer. Commits."""
    duplicate = fetch(session, Offer, duplicate_id, "offer")
    kept = fetch(session, Offer, kept_id, "offer")
    if duplicate.id == kept.id:
        raise Conflict("an offer cannot be merged into itself")
    if kept.status not in LIVE:
        raise Conflict(f"offer {kept.id} is {kept.status}: merge into a live offer")
    was_published = duplicate.status == OfferStatus.PUBLISHED
    with committing(session):
        moved = _move_matches(session, duplicate, kept)
        audit.audited_update(
            session,
            duplicate,
            user_id,
            "offer",
            "merge",
            {
                "status": OfferStatus.WITHDRAWN,
                "duplicate_of_id": kept.id,
                "closed_reason": f"merged into #{kept.id}",
            },
            extra={"merged_into": kept.id, "matches_moved": moved},
        )
        kept_values: dict = {}
        if kept.duplicate_of_id == duplicate.id:
            kept_values["duplicate_of_id"] = None
        if was_published and kept.status == OfferStatus.SUBMITTED:
            kept_values["status"] = OfferStatus.PUBLISHED  # staff had published the call
        audit.audited_update(session, kept, user_id, "offer", "merge_keep", kept_values)
        audit.record(
            session,
            user_id,
            "offer",
            kept.id,
            "merged",
            None,
            {"merged_from": duplicate.id, "matches_moved": moved},
        )
        queue_scoring(session, duplicate)
        queue_scoring(session, kept)
    outbox.dispatch(session)
    return kept


def dismiss(session: Session, offer_id: int, user_id: int | None) -> Offer:
    """Staff say the flagged offer is not a duplicate; commits."""
    offer = fetch(session, Offer, offer_id, "offer")
    with committing(session):
        audit.audited_update(
            session, offer, user_id, "offer", "not_duplicate", {"duplicate_of_id": None}
        )
    return offer
