"""Offers sent by partners through the public form: submit, follow by signed link, edit, withdraw.

A submission is stored (status `submitted`) in one transaction before anything else happens;
mail and the broker come after and never decide whether it is kept. The partner follows the
offer through a signed, expiring link that names the offer and the contact email, so no
account is needed (https://itsdangerous.palletsprojects.com/en/stable/url_safe/).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Match, Offer, Organization
from models.enums import MatchStatus, OfferSource, OfferStatus, Side
from services import catalog, clock, moderation, outbox, signed_links
from services.db import committing
from services.errors import Conflict, Invalid, NotFound
from services.matching.queue import queue_scoring
from services.rules import offer_rule_errors

FOLLOW_SALT = "coopmatch.offer-follow"
DEFAULT_LINK_MAX_AGE = timedelta(days=30)
DEFAULT_DUPLICATE_WINDOW = timedelta(minutes=10)
DEFAULT_MAX_LINKS = 20
EDITABLE = (OfferStatus.SUBMITTED,)
WITHDRAWABLE = (OfferStatus.SUBMITTED, OfferStatus.PUBLISHED)
SHOWS_MATCHES = (OfferStatus.PUBLISHED, OfferStatus.CLOSED)
CONTACT_REQUIRED = "Give an email address: we send the offer's link there."


LinkExpired = signed_links.LinkExpired


@dataclass
class Submission:
    offer: Offer
    duplicate: bool = False


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def normalise_title(title: str) -> str:
    """Return the title as the duplicate rule compares it: case and spacing ignored."""
    return " ".join(title.split()).casefold()


def find_duplicate(
    session: Session,
    email: str | None,
    title: str,
    *,
    within: timedelta = DEFAULT_DUPLICATE_WINDOW,
    now: datetime | None = None,
) -> Offer | None:
    """Return an offer with the same contact email and title sent within `within`, if any."""
    email = normalise_email(email)
    if not email or not title:
        return None
    cutoff = (now or clock.now()) - within
    candidates = session.scalars(
        sa.select(Offer)
        .where(
            sa.func.lower(Offer.contact_email) == email,
            Offer.created_at >= cutoff,
            Offer.status != OfferStatus.WITHDRAWN,
        )
        .order_by(Offer.id.desc())
    )
    wanted = normalise_title(title)
    return next((offer for offer in candidates if normalise_title(offer.title) == wanted), None)


def _supply_organization(
    session: Session, values: Mapping[str, Any], contact_email: str | None
) -> tuple[Organization, bool]:
    """Return the supply-side organisation named in `values` (creating it when it is new), and
    whether it was created now."""
    name = " ".join(str(values["name"]).split())
    existing = session.scalar(
        sa.select(Organization).where(sa.func.lower(Organization.name) == name.lower())
    )
    if existing is not None:
        if existing.side != Side.SUPPLY:
            raise Invalid(
                "an organisation of the city's side has this name",
                {
                    "name": [
                        "This name belongs to a local entity: use your organisation's own name."
                    ]
                },
            )
        return existing, False
    org = Organization(
        name=name,
        kind=values["kind"],
        country=values["country"],
        website=values.get("website"),
        side=Side.SUPPLY,
        contact_email=contact_email,
    )
    session.add(org)
    session.flush()
    return org, True


def _existing_supplier(session: Session, organization_id: int | None) -> Organization:
    org = session.get(Organization, organization_id) if organization_id is not None else None
    if org is None or org.side != Side.SUPPLY:
        raise Invalid(
            "unknown organisation",
            {"organization_id": ["Choose your organisation from the list, or enter a new one."]},
        )
    return org


def submit_offer(
    session: Session,
    data: Mapping[str, Any],
    *,
    organization_id: int | None = None,
    new_organization: Mapping[str, Any] | None = None,
    source: OfferSource = OfferSource.FORM,
    now: datetime | None = None,
) -> Submission:
    """Store a partner's offer as `submitted`, with its new organisation if it names one.

    `data` holds validated offer fields (schemas.OfferIn without organization_id). A second
    sending of the same title from the same email within minutes returns the first offer,
    marked `duplicate`, and stores nothing.
    """
    values = dict(data)
    values["contact_email"] = normalise_email(values.get("contact_email"))
    if not values["contact_email"]:
        raise Invalid("a contact email is needed", {"contact_email": [CONTACT_REQUIRED]})
    duplicate = find_duplicate(session, values["contact_email"], values.get("title", ""), now=now)
    if duplicate is not None:
        return Submission(duplicate, duplicate=True)
    errors = offer_rule_errors(values)
    if errors:
        raise Invalid("some fields break the rules of an offer", errors)
    for key in ("organization_id", "status", "source"):
        values.pop(key, None)
    with committing(session):
        if new_organization is not None:
            org, created = _supply_organization(session, new_organization, values["contact_email"])
        else:
            org, created = _existing_supplier(session, organization_id), False
        # Anyone can name an existing organisation: the offer joins it only once staff publish it.
        offer = Offer(
            **values,
            organization_id=org.id,
            organization_confirmed=created,
            status=OfferStatus.SUBMITTED,
            source=source,
        )
        session.add(offer)
        queue_scoring(session, offer)
    outbox.dispatch(session)
    return Submission(offer)


def _follow_salt(offer: Offer) -> str:
    # The link is bound to the contact email through the salt it is signed with: changing the
    # contact ends the old links, and the token itself carries nothing but the offer's id.
    email = hashlib.sha256((normalise_email(offer.contact_email) or "").encode()).hexdigest()
    return f"{FOLLOW_SALT}:{email}"


def follow_token(secret_key: str, offer: Offer) -> str:
    """Return a signed token naming the offer, valid while its contact email stays the same."""
    return signed_links.sign(secret_key, _follow_salt(offer), {"offer": offer.id})


def read_follow_token(
    session: Session, secret_key: str, token: str, max_age: timedelta = DEFAULT_LINK_MAX_AGE
) -> Offer:
    """Return the offer a follow token names; LinkExpired when too old, NotFound when forged."""
    named = (signed_links.peek(token) or {}).get("offer")
    offer = session.get(Offer, named) if isinstance(named, int) else None
    if offer is None:
        raise NotFound("this link is not valid")
    signed_links.read(
        secret_key,
        _follow_salt(offer),
        token,
        max_age,
        expired="this link has expired: ask for a new one",
        invalid="this link is not valid",
        invalid_error=NotFound,
    )
    return offer


def edit_offer(session: Session, offer: Offer, data: Mapping[str, Any]) -> Offer:
    """Change a submitted offer's fields; once staff have moderated it, it is a Conflict."""
    session.refresh(offer)
    if offer.status not in EDITABLE:
        raise Conflict("only an offer waiting for review can be changed")
    values = {
        k: v
        for k, v in data.items()
        if k not in ("organization_id", "status", "source", "contact_email", "ref")
    }
    return catalog.update(session, offer, values)


def withdraw_offer(session: Session, offer: Offer) -> Offer:
    """Withdraw a submitted or published offer; its proposed matches are withdrawn too."""
    session.refresh(offer)
    if offer.status not in WITHDRAWABLE:
        raise Conflict(f"an offer that is {offer.status.value} cannot be withdrawn")
    return catalog.update(session, offer, {"status": OfferStatus.WITHDRAWN})


def matched_projects(session: Session, offer: Offer) -> int | None:
    """Return how many projects a published (or closed) offer was matched to; else None."""
    if offer.status not in SHOWS_MATCHES:
        return None
    return (
        session.scalar(
            sa.select(sa.func.count(sa.distinct(Match.project_id))).where(
                Match.offer_id == offer.id, Match.status != MatchStatus.WITHDRAWN
            )
        )
        or 0
    )


@dataclass
class Rejection:
    reason: str | None  # a code of services.moderation.REJECT_REASONS
    note: str | None  # the moderator's words


def rejection(session: Session, offer: Offer) -> Rejection | None:
    """Return why a rejected offer was rejected (from the moderation's audit event)."""
    if offer.status != OfferStatus.REJECTED:
        return None
    event = moderation.last_rejection(session, offer.id)
    after = (event.after or {}) if event is not None else {}
    return Rejection(after.get("reason"), after.get("note"))


def offers_for_email(session: Session, email: str, limit: int = DEFAULT_MAX_LINKS) -> list[Offer]:
    """Return the newest offers whose contact is `email`, for a new set of follow links."""
    email = normalise_email(email)
    if not email:
        return []
    return list(
        session.scalars(
            sa.select(Offer)
            .where(sa.func.lower(Offer.contact_email) == email)
            .order_by(Offer.id.desc())
            .limit(limit)
        )
    )


def supply_organizations(session: Session) -> list[Organization]:
    """Return the supply-side organisations a partner may choose, by name."""
    return list(
        session.scalars(
            sa.select(Organization)
            .where(Organization.side == Side.SUPPLY)
            .order_by(Organization.name)
        )
    )
