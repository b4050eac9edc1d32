"""Deadline reminders: the owner of a shortlisted or accepted match is emailed some days
before its offer closes (COOPMATCH_REMINDER_DAYS, default 14 and 3), while its alliance has
not passed negotiation; exactly once per (match, threshold).

A daily run (the beat task) reserves, for each such match whose offer is published and whose
deadline is within the largest
threshold, a row for the smallest threshold the days left fit in (a match first followed 2
days before its deadline gets the 3-day reminder only). Rows live in `deadline_reminders`
(UNIQUE (match, threshold)) and go through the digest's machinery (services.digest.sending):
claimed, sent, marked; a refused message is retried alone with the digest's delays. A row
whose match stopped needing it before it went (decided otherwise, alliance formalised,
deadline moved away, no owner) is dropped, so a later run may reserve it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import DeadlineReminder, Match, Offer, User
from models.enums import OfferStatus
from services import clock, locks
from services.db import committing
from services.digest import sending
from services.work import emails, mine

LEDGER = sending.Ledger(DeadlineReminder, DeadlineReminder.match_id)
RUN_LOCK = "deadline_reminders"


def period_of(days: int) -> str:
    return f"{days}d"


def threshold_for(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    """The smallest threshold `days_left` fits in (None when closed or too far away)."""
    if days_left < 0:
        return None
    fitting = [t for t in thresholds if days_left <= t]
    return min(fitting) if fitting else None


def _due(session: Session, today: date, thresholds: tuple[int, ...]) -> list[tuple[int, date]]:
    """(match id, deadline) of every match a reminder may be due for, owned by active staff."""
    horizon = today + timedelta(days=max(thresholds))
    query = (
        mine.deadline_matches(session)
        .where(
            Offer.deadline >= today,
            Offer.deadline <= horizon,
            Offer.status == OfferStatus.PUBLISHED,
        )
        .join(User, User.id == Match.owner_id)
        .where(User.active)
        .with_only_columns(Match.id, Offer.deadline)
    )
    return [tuple(row) for row in session.execute(query)]


def _reserve(session: Session, settings: Settings, now: datetime, today: date) -> int:
    thresholds = settings.reminder_days
    wanted = set()
    for match_id, deadline in _due(session, today, thresholds):
        days = threshold_for((deadline - today).days, thresholds)
        if days is not None:
            wanted.add((match_id, period_of(days)))
    if not wanted:
        return 0
    done = set(
        session.execute(
            sa.select(DeadlineReminder.match_id, DeadlineReminder.period).where(
                DeadlineReminder.match_id.in_({match_id for match_id, _p in wanted})
            )
        ).all()
    )
    rows = [
        {
            "match_id": match_id,
            "period": period,
            "window_start": now,
            "window_end": now,
            "match_count": 1,
            "items": [match_id],
        }
        for (match_id, period) in sorted(wanted)
        if (match_id, period) not in done
    ]
    return sending.reserve(session, LEDGER, rows)


@dataclass
class RunResult:
    reserved: int = 0
    sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (match id, period) to retry
    busy: bool = False  # another run held the lease; only sending was done here


def send_due(session: Session, settings: Settings, now: datetime | None = None) -> RunResult:
    """Reserve today's reminders and send every one waiting. Safe to run again."""
    now = now or clock.now()
    today = clock.agency_today(settings.timezone, at=now)
    result = RunResult()
    holder = uuid.uuid4().hex
    if locks.acquire(session, RUN_LOCK, holder, settings.lock_ttl):
        try:
            with committing(session):
                result.reserved = _reserve(session, settings, now, today)
        finally:
            locks.release(session, RUN_LOCK, holder)
    else:
        result.busy = True
    periods = [period_of(days) for days in settings.reminder_days]
    result.sent, result.failed = sending.send_all(
        session,
        LEDGER,
        periods,
        now,
        lambda match_id, period: send_one(session, settings, match_id, period, now=now),
    )
    return result


def still_due(session: Session, match: Match, period: str, today: date) -> bool:
    """Whether the reminder is still wanted: followed, owned, not closed, within its days."""
    query = mine.deadline_matches(session).where(
        Match.id == match.id, Offer.status == OfferStatus.PUBLISHED
    )
    if session.scalar(query) is None or match.owner is None or not match.owner.active:
        return False
    days_left = (match.offer.deadline - today).days
    return 0 <= days_left <= int(period.rstrip("d"))


def send_one(
    session: Session, settings: Settings, match_id: int, period: str, *, now=None
) -> DeadlineReminder | None:
    """Send one reserved reminder; None when there is nothing to send. On an SMTP failure
    the row is marked failed and mail.MailError is raised for the caller to retry."""
    now = now or clock.now()
    today = clock.agency_today(settings.timezone, at=now)
    row = sending.claim(session, LEDGER, match_id, period, now)
    if row is None:
        return None
    match = row.match
    session.refresh(match)
    if not still_due(session, match, period, today):
        sending.drop(session, row)
        return None
    message = emails.reminder(settings, match.owner, match, today)
    message.replace_header(
        "Message-ID", f"<reminder-{match.id}-{period}@{sending.mail_domain(settings)}>"
    )
    sending.deliver(session, settings, row, message, now, lambda: None)
    return row
