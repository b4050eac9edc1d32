"""Weekly match digests: subscriptions, building each subscriber's digest, sending it once.

What a digest holds. Each match has a *mark* (digest_match_marks): the best score the digests
have seen and when it appeared or last rose by at least DEFAULT_MIN_RISE. A subscriber's digest
holds the matches whose mark moved inside its window (covered_until, now], that are still live
(not withdrawn or rejected; offer published and not past its deadline; project open) and pass
its filters (staff: thematic lines and minimum score; partner: the organisation's offers).
Scoring rewrites every match nightly, so `Match.updated_at` alone cannot say "improved".

Building is a handful of queries for every subscriber together (subscriptions, the period's
sends, one query for all candidate matches); the filtering per subscriber happens in Python.

Exactly once. For each period (the ISO week in the agency's time zone) a subscriber has at
most one digest_sends row (UNIQUE (subscription_id, period)). The weekly run reserves the rows
(status pending, with the matches to show) in one transaction; then each row is claimed
(attempts + 1, claimed_at), handed to SMTP and marked sent together with the subscription's
covered_until in one commit. A row already sent is never sent again, and a claim keeps two
workers from sending one row at once. The one window left is a crash after the SMTP server
accepted the message and before that commit: the row stays claimed and, after
DEFAULT_CLAIM_SECONDS, a re-run sends it again. We chose at-least-once there (a lost weekly
digest is worse than a rare duplicate), and the Message-ID is fixed per (subscription, period)
so mail clients that collapse duplicates show it once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import DigestSend, Subscription, User
from models.digests import SubscriptionKind, SubscriptionStatus
from models.enums import Role
from services import clock, locks
from services.db import committing
from services.digest import sending
from services.digest.messages import compose_message
from services.digest.selection import (
    Candidate,
    Subscriber,
    candidates,
    period_of,
    refresh_marks,
    select_matches,
)
from services.digest.subscriptions import ensure_partner_subscriptions

WEEKLY_LOCK = "digest_weekly"
LEDGER = sending.Ledger(DigestSend, DigestSend.subscription_id)
retry_delay = sending.retry_delay


@dataclass
class Digest:
    subscription_id: int
    window_start: datetime
    window_end: datetime
    match_count: int
    items: list[list] = field(default_factory=list)  # [[match_id, score], ...] best first


def _subscribers(session: Session, period: str) -> list[Subscriber]:
    """Active subscriptions of active users that have no row for `period` yet: one query."""
    done = sa.exists().where(
        DigestSend.subscription_id == Subscription.id, DigestSend.period == period
    )
    rows = session.execute(
        sa.select(
            Subscription.id,
            Subscription.kind,
            Subscription.lines,
            Subscription.min_score,
            User.organization_id,
            Subscription.covered_until,
            User.role,
        )
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.status == SubscriptionStatus.ACTIVE, User.active.is_(True), ~done)
        .order_by(Subscription.id)
    )
    out = []
    for sub_id, kind, lines, min_score, org_id, covered, role in rows:
        if kind == SubscriptionKind.PARTNER and (role != Role.PARTNER or org_id is None):
            continue
        if kind == SubscriptionKind.STAFF and role == Role.PARTNER:
            continue
        out.append(
            Subscriber(
                sub_id,
                str(kind),
                frozenset(lines or ()),
                float(min_score),
                org_id,
                clock.aware(covered),
            )
        )
    return out


def build_digests(session: Session, settings: Settings, period: str, now: datetime) -> list[Digest]:
    """Build every due subscriber's digest for `period` in three queries; empty ones are left out.

    Staff with the same filters and window share one selection; partners select only among
    their organisation's candidates.
    """
    subscribers = _subscribers(session, period)
    if not subscribers:
        return []
    since = min(s.window_start for s in subscribers)
    pool = candidates(
        session, settings, since, now, min_score=min(s.min_score for s in subscribers)
    )
    by_org: dict[int, list[Candidate]] = defaultdict(list)
    for cand in pool:
        by_org[cand.organization_id].append(cand)
    shared: dict[tuple, list[Candidate]] = {}
    digests = []
    for sub in subscribers:
        if sub.kind == SubscriptionKind.PARTNER:
            chosen = select_matches(sub, by_org.get(sub.organization_id, []), now)
        else:
            key = (sub.lines, sub.min_score, sub.window_start)
            if key not in shared:
                shared[key] = select_matches(sub, pool, now)
            chosen = shared[key]
        if chosen:
            digests.append(
                Digest(
                    sub.subscription_id,
                    sub.window_start,
                    now,
                    len(chosen),
                    [[c.match_id, c.score] for c in chosen[: settings.digest_max_items]],
                )
            )
    return digests


def _reserve(session: Session, period: str, digests: list[Digest]) -> int:
    """Insert the pending rows; the unique key skips a subscriber another run reserved."""
    return sending.reserve(
        session,
        LEDGER,
        [
            {
                "subscription_id": d.subscription_id,
                "period": period,
                "window_start": d.window_start,
                "window_end": d.window_end,
                "match_count": d.match_count,
                "items": d.items,
            }
            for d in digests
        ],
    )


@dataclass
class WeeklyResult:
    period: str
    reserved: int = 0
    sent: int = 0
    failed: list[int] = field(default_factory=list)  # subscription ids to retry later
    busy: bool = False  # another run held the build lease; only sending was done here


def send_weekly(session: Session, settings: Settings, now: datetime | None = None) -> WeeklyResult:
    """Build and reserve this period's digests, then send every one not yet sent.

    Safe to run again: a subscriber with a row for the period is not built again, a sent row
    is not sent again, and a pending row a crash left behind is sent now. A recipient the SMTP
    server refuses is marked failed and listed in the result for a later retry.
    """
    now = now or clock.now()
    period = period_of(now, settings.timezone)
    result = WeeklyResult(period)
    holder = uuid.uuid4().hex
    if locks.acquire(session, WEEKLY_LOCK, holder, settings.lock_ttl):
        try:
            ensure_partner_subscriptions(session, now)
            with committing(session):
                refresh_marks(session, now)
                result.reserved = _reserve(
                    session, period, build_digests(session, settings, period, now)
                )
        finally:
            locks.release(session, WEEKLY_LOCK, holder)
    else:
        result.busy = True
    result.sent, failed = sending.send_all(
        session,
        LEDGER,
        [period],
        now,
        lambda subscription_id, due_period: send_one(
            session, settings, subscription_id, due_period, now=now
        ),
    )
    result.failed = [subscription_id for subscription_id, _period in failed]
    return result


def send_one(
    session: Session,
    settings: Settings,
    subscription_id: int,
    period: str,
    *,
    now: datetime | None = None,
) -> DigestSend | None:
    """Send the subscriber's reserved digest for `period`; return the row once it is sent.

    Returns None when there is nothing to send (no row, already sent, held by another worker,
    or the subscriber paused or unsubscribed since). On an SMTP failure the row is marked
    failed with the error and mail.MailError is raised for the caller to retry.
    """
    now = now or clock.now()
    row = sending.claim(session, LEDGER, subscription_id, period, now)
    if row is None:
        return None
    sub = row.subscription
    session.refresh(sub)
    if sub.status != SubscriptionStatus.ACTIVE or not sub.user.active:
        sending.drop(session, row)
        return None
    if sending.superseded(sub.covered_until, row):  # a later period covered this one
        sending.supersede(session, row)
        return None

    def moved_window() -> None:
        sub.covered_until = max(clock.aware(sub.covered_until), clock.aware(row.window_end))
        sub.last_period, sub.last_sent_at = period, now

    sending.deliver(
        session, settings, row, compose_message(session, settings, sub, row), now, moved_window
    )
    return row
