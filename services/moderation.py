"""Moderating offers that partners submitted: publish (which queues scoring), edit, reject.

Publishing and editing go through catalog.update, so the offer's rules are checked and its
scoring is queued through the outbox in the same transaction as the audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import AuditEvent, Offer
from models.enums import OfferStatus
from services import audit, catalog, outbox, reasons
from services.db import committing
from services.errors import Conflict, Invalid

REJECT_REASONS = ("out_of_scope", "incomplete", "not_eligible", "duplicate", "other")
EDITABLE = (
    "title",
    "description",
    "modalities",
    "lines",
    "sdgs",
    "amount_min",
    "amount_max",
    "currency",
    "eligible_kinds",
    "eligible_countries",
    "opens_on",
    "deadline",
    "language",
    "contact_email",
    "contact_private",
)
ENTITY = "offer"


def pending(session: Session, limit: int = 200) -> list[Offer]:
    """Return the offers waiting for moderation, oldest first."""
    return list(
        session.scalars(
            sa.select(Offer)
            .where(Offer.status == OfferStatus.SUBMITTED)
            .order_by(Offer.created_at, Offer.id)
            .limit(limit)
        )
    )


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Offer)
            .where(Offer.status == OfferStatus.SUBMITTED)
        )
        or 0
    )


def _audited_update(
    session: Session,
    offer: Offer,
    user_id: int,
    action: str,
    data: Mapping[str, Any],
    extra: dict | None = None,
) -> Offer:
    """Apply `data` through catalog's rules and scoring queue, with its audit event, at once."""
    with committing(session):
        audit.audited_update(
            session,
            offer,
            user_id,
            ENTITY,
            action,
            data,
            apply=lambda changed: catalog.apply_update(session, offer, changed),
            extra=extra,
            only_changes=False,
        )
    outbox.dispatch(session)
    return offer


def _check_submitted(offer: Offer, verb: str) -> None:
    status = OfferStatus(offer.status)
    if status != OfferStatus.SUBMITTED:
        raise Conflict(
            f"offer {offer.id} is {status.value}: only submitted offers can be {verb}",
            {"status": [status.value]},
        )


def publish(session: Session, offer: Offer, user_id: int) -> Offer:
    """Publish a submitted offer; its scoring is queued by catalog.update."""
    _check_submitted(offer, "published")
    changes: dict[str, Any] = {"status": OfferStatus.PUBLISHED}
    if not offer.organization_confirmed:  # staff saw "not confirmed" and published: confirmed
        changes["organization_confirmed"] = True
    return _audited_update(session, offer, user_id, "publish", changes)


def reject(session: Session, offer: Offer, user_id: int, reason: str, note: str | None) -> Offer:
    """Reject a submitted offer with a reason from REJECT_REASONS and the moderator's words."""
    note = reasons.check_reason(
        reason, note, REJECT_REASONS, message="the rejection needs a valid reason"
    )
    _check_submitted(offer, "rejected")
    return _audited_update(
        session,
        offer,
        user_id,
        "reject",
        {"status": OfferStatus.REJECTED},
        {"reason": reason, "note": note or None},
    )


def edit(session: Session, offer: Offer, user_id: int, data: Mapping[str, Any]) -> Offer:
    """Change the offer's content fields (not its status); audit the fields that changed."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise Invalid("these fields cannot be edited here", {k: ["Not editable."] for k in unknown})
    changed = audit.changes(offer, data)
    if not changed:
        return offer
    return _audited_update(session, offer, user_id, "edit", changed)


def last_rejection(session: Session, offer_id: int) -> AuditEvent | None:
    """Return the event of the offer's latest rejection (its reason is in `after`)."""
    return session.scalar(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == ENTITY,
            AuditEvent.entity_id == offer_id,
            AuditEvent.action == "reject",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
