"""Digest subscriptions: a person's own (staff: lines and minimum score; partners: their
organisation's offers), the partners subscribed for them, and one-click unsubscribing by a
signed link (RFC 8058)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Offer, User
from models.digests import Subscription, SubscriptionKind, SubscriptionStatus
from models.enums import Line, Role
from services import clock, signed_links
from services.db import committing, fetch
from services.digest import sending, templates
from services.errors import Invalid
from services.pagination import Page

DEFAULT_FIRST_WINDOW = timedelta(days=7)  # a new (or resumed) subscriber gets the last week
DEFAULT_TOKEN_MAX_AGE = sending.DEFAULT_TOKEN_MAX_AGE
UNSUBSCRIBE_SALT = "digest-unsubscribe"

InvalidLink = signed_links.InvalidLink
LinkExpired = signed_links.LinkExpired


def subscription_of(session: Session, user: User) -> Subscription | None:
    """The user's own subscription (staff or partner, by the user's role), if any."""
    kind = SubscriptionKind.PARTNER if user.role == Role.PARTNER else SubscriptionKind.STAFF
    return session.scalar(
        sa.select(Subscription).where(Subscription.user_id == user.id, Subscription.kind == kind)
    )


def get_subscription(session: Session, subscription_id: int) -> Subscription:
    return fetch(session, Subscription, subscription_id, "subscription")


def _validate(lines, min_score, language, status) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    known = {line.value for line in Line}
    if any(line not in known for line in lines):
        errors["lines"] = ["Choose thematic lines from the list."]
    if min_score is None or not 0 <= float(min_score) <= 1:
        errors["min_score"] = ["Give a minimum score between 0 and 100 %."]
    if language not in templates.LANGUAGES:
        errors["language"] = ["Choose Spanish or English."]
    if status not in {s.value for s in SubscriptionStatus}:
        errors["status"] = ["Choose active, paused or unsubscribed."]
    return errors


def save_subscription(
    session: Session,
    user: User,
    *,
    lines: Iterable[str] = (),
    min_score: float = 0.0,
    language: str = "es",
    status: str = "active",
    now: datetime | None = None,
) -> Subscription:
    """Create or change the user's own subscription; Invalid (per field) on bad input.

    A subscriber coming back from a pause or an unsubscription gets at most the last
    DEFAULT_FIRST_WINDOW of matches, not everything that happened while away.
    """
    now = now or clock.now()
    lines = sorted(set(lines))
    errors = _validate(lines, min_score, language, str(status))
    if errors:
        raise Invalid("the subscription has invalid fields", errors)
    sub = subscription_of(session, user)
    status = SubscriptionStatus(status)
    with committing(session):
        if sub is None:
            kind = SubscriptionKind.PARTNER if user.role == Role.PARTNER else SubscriptionKind.STAFF
            sub = Subscription(user_id=user.id, kind=kind, covered_until=now - DEFAULT_FIRST_WINDOW)
            session.add(sub)
        elif sub.status != SubscriptionStatus.ACTIVE and status == SubscriptionStatus.ACTIVE:
            sub.covered_until = max(clock.aware(sub.covered_until), now - DEFAULT_FIRST_WINDOW)
        sub.lines, sub.min_score, sub.language = lines, float(min_score), language
        if status == SubscriptionStatus.UNSUBSCRIBED and sub.status != status:
            sub.unsubscribed_at = now
        sub.status = status
    return sub


def ensure_partner_subscriptions(session: Session, now: datetime | None = None) -> int:
    """Subscribe every active partner user whose organisation has offers; return how many new.

    A partner who unsubscribed keeps that choice: only users with no subscription are added.
    """
    now = now or clock.now()
    has_offers = sa.exists().where(Offer.visible_to(User.organization_id))
    has_subscription = sa.exists().where(
        Subscription.user_id == User.id, Subscription.kind == SubscriptionKind.PARTNER
    )
    rows = session.execute(
        sa.select(User.id, User.language).where(
            User.role == Role.PARTNER,
            User.active.is_(True),
            User.organization_id.is_not(None),
            has_offers,
            ~has_subscription,
        )
    ).all()
    if not rows:
        return 0
    with committing(session):
        session.execute(
            sa.insert(Subscription),
            [
                {
                    "user_id": user_id,
                    "kind": SubscriptionKind.PARTNER,
                    "lines": [],
                    "min_score": 0.0,
                    "language": str(language or "es"),
                    "status": SubscriptionStatus.ACTIVE,
                    "covered_until": now - DEFAULT_FIRST_WINDOW,
                }
                for user_id, language in rows
            ],
        )
    return len(rows)


def list_subscriptions(session: Session, page: int = 1, per_page: int = 50) -> Page:
    """Every subscription with its user, staff first, then by email."""
    total = session.scalar(sa.select(sa.func.count()).select_from(Subscription)) or 0
    items = session.scalars(
        sa.select(Subscription)
        .join(User, User.id == Subscription.user_id)
        .order_by(Subscription.kind.desc(), User.email)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).unique()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def unsubscribe_token(secret_key: str, sub: Subscription) -> str:
    """A signed, timestamped token naming the subscription and its subscription period."""
    generation = sending.link_generation(clock.aware(sub.unsubscribed_at))
    return sending.unsubscribe_token(secret_key, UNSUBSCRIBE_SALT, sub.id, generation)


def read_unsubscribe_token(
    session: Session, secret_key: str, token: str, max_age: timedelta = DEFAULT_TOKEN_MAX_AGE
) -> Subscription:
    """Return the subscription a token names; InvalidLink when altered, LinkExpired when old."""
    subscription_id, generation = sending.read_unsubscribe_token(
        secret_key, UNSUBSCRIBE_SALT, token, max_age
    )
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise InvalidLink("this unsubscribe link is not valid")
    sending.check_generation(
        generation,
        clock.aware(sub.unsubscribed_at),
        sub.status == SubscriptionStatus.UNSUBSCRIBED,
    )
    return sub


def unsubscribe(session: Session, sub: Subscription, now: datetime | None = None) -> bool:
    """Unsubscribe; False when it already was (a link works once)."""
    changed = session.execute(
        sa.update(Subscription)
        .where(Subscription.id == sub.id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
        .values(
            status=SubscriptionStatus.UNSUBSCRIBED,
            unsubscribed_at=now or clock.now(),
            updated_at=sa.func.now(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(sub)
    return changed == 1
