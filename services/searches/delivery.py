"""Emails of what is new in subscribed saved searches, exactly once per period.

Periods. Each frequency has its own period, in the agency's time zone: `immediate` the slot of
COOPMATCH_SEARCH_INTERVAL the run falls in ("2026-12-04T10:05"), `daily` the day
("2026-12-04", from COOPMATCH_DIGEST_HOUR on), `weekly` the ISO week ("2026-W49", from the
digest's weekday and hour on). One run (the beat task, every interval) serves all three: a
search gets a row when its current period has none yet.

What is new. For a public search, the open offers that fit it and were first published in the
window (covered_until, now]; for a review-queue search, the matches that fit it and were
created in the window. Nothing new: no row and no email; the window simply grows.

Exactly once. Rows are reserved, claimed, sent and marked by the digest's machinery
(services.digest.sending), with the search's covered_until moved in the commit that marks its
row sent; a row whose window a later email covered is set aside, not sent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Match, SavedSearch, SavedSearchSend, User
from models.searches import Frequency, SearchScope, SearchStatus
from services import clock, locks, opportunities, reviews
from services.db import committing
from services.digest import sending
from services.errors import Invalid
from services.searches import emails, filters, store

log = logging.getLogger(__name__)

LEDGER = sending.Ledger(SavedSearchSend, SavedSearchSend.saved_search_id)
RUN_LOCK = "saved_searches"
ISO_WEEKDAY = {0: 7, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6}  # cron's 0 = Sunday -> ISO's 7


def period_of(frequency: str, now: datetime, settings: Settings) -> str | None:
    """The period `now` falls in for `frequency`; None before a daily or weekly one is due."""
    local = clock.local(now, settings.timezone)
    if frequency == Frequency.IMMEDIATE:
        slot = max(settings.search_interval // 60, 1)
        return f"{local:%Y-%m-%dT%H}:{local.minute - local.minute % slot:02d}"
    if frequency == Frequency.DAILY:
        return local.date().isoformat() if local.hour >= settings.digest_hour else None
    year, week, weekday = local.isocalendar()
    start = (ISO_WEEKDAY[settings.digest_weekday % 7], settings.digest_hour)
    return f"{year}-W{week:02d}" if (weekday, local.hour) >= start else None


@dataclass
class NewItems:
    total: int
    items: list  # offer ids, or [match id, score] pairs, best or newest first


def new_items(
    session: Session,
    settings: Settings,
    search: SavedSearch,
    since: datetime,
    until: datetime,
) -> NewItems:
    """What is new for `search` in (since, until]: the first ones and how many in all."""
    today = clock.agency_today(settings.timezone, at=until)
    limit = settings.digest_max_items
    if search.scope == SearchScope.OPPORTUNITIES:
        wanted = filters.opportunity_filters(search.params)
        found = opportunities.newest(session, wanted, today, limit, since=since, until=until)
        total = (
            len(found)
            if len(found) < limit
            else opportunities.count_new(session, wanted, today, since, until)
        )
        return NewItems(total, [offer.id for offer in found])
    query = reviews.queue_select(session, filters.queue_filters(search.params), today)
    if query is None:
        return NewItems(0, [])
    query = query.where(Match.created_at > since, Match.created_at <= until)
    rows = session.execute(query.limit(limit)).all()
    total = len(rows)
    if total == limit:
        total = session.scalar(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        )
    return NewItems(total or 0, [[int(r.id), float(r.score)] for r in rows])


def _subscribed(session: Session) -> list[SavedSearch]:
    """Subscribed searches whose owner (if an account) may still sign in: one query."""
    return list(
        session.scalars(
            sa.select(SavedSearch)
            .outerjoin(User, User.id == SavedSearch.user_id)
            .where(
                SavedSearch.status == SearchStatus.SUBSCRIBED,
                sa.or_(SavedSearch.user_id.is_(None), User.active.is_(True)),
            )
            .order_by(SavedSearch.id)
        ).unique()
    )


def _reserve_due(session: Session, settings: Settings, now: datetime) -> tuple[int, list[str]]:
    """Reserve this run's rows; return how many and the periods they may belong to."""
    searches = _subscribed(session)
    periods = {f.value: period_of(f.value, now, settings) for f in Frequency}
    current = [p for p in periods.values() if p]
    done = set(
        session.execute(
            sa.select(SavedSearchSend.saved_search_id, SavedSearchSend.period).where(
                SavedSearchSend.period.in_(current)
            )
        ).all()
    )
    rows = []
    for search in searches:
        period = periods[str(search.frequency)]
        if period is None or (search.id, period) in done:
            continue
        since = clock.aware(search.covered_until)
        try:
            found = new_items(session, settings, search, since, now)
        except Invalid as exc:  # a code the search names is gone: skip it, keep the others
            log.warning("saved search %s cannot run: %s %s", search.id, exc, exc.fields)
            continue
        if found.total:
            rows.append(
                {
                    "saved_search_id": search.id,
                    "period": period,
                    "window_start": since,
                    "window_end": now,
                    "match_count": found.total,
                    "items": found.items,
                }
            )
    return sending.reserve(session, LEDGER, rows), current


@dataclass
class RunResult:
    reserved: int = 0
    sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (search id, period) to retry
    purged: int = 0
    busy: bool = False  # another run held the lease; only sending was done here


def send_due(session: Session, settings: Settings, now: datetime | None = None) -> RunResult:
    """Reserve and send every subscribed search's email for its current period.

    Safe to run again: a search with a row for its period is not built again, a sent row is
    not sent again, and a pending row a crash left behind is sent now.
    """
    now = now or clock.now()
    result = RunResult()
    periods = [p for p in (period_of(f.value, now, settings) for f in Frequency) if p]
    holder = uuid.uuid4().hex
    if locks.acquire(session, RUN_LOCK, holder, settings.lock_ttl):
        try:
            result.purged = store.purge_unconfirmed(session, now)
            with committing(session):
                result.reserved, periods = _reserve_due(session, settings, now)
        finally:
            locks.release(session, RUN_LOCK, holder)
    else:
        result.busy = True
    result.sent, result.failed = sending.send_all(
        session,
        LEDGER,
        periods,
        now,
        lambda search_id, period: send_one(session, settings, search_id, period, now=now),
    )
    return result


def send_one(
    session: Session,
    settings: Settings,
    search_id: int,
    period: str,
    *,
    now: datetime | None = None,
) -> SavedSearchSend | None:
    """Send the search's reserved email for `period`; return the row once it is sent.

    Returns None when there is nothing to send (no row, already sent, held by another worker,
    or the search was unsubscribed since). On an SMTP failure the row is marked failed and
    mail.MailError is raised for the caller to retry.
    """
    now = now or clock.now()
    row = sending.claim(session, LEDGER, search_id, period, now)
    if row is None:
        return None
    search = row.saved_search
    session.refresh(search)
    if search.status != SearchStatus.SUBSCRIBED or (
        search.user is not None and not search.user.active
    ):
        sending.drop(session, row)
        return None
    if sending.superseded(search.covered_until, row):
        sending.supersede(session, row)
        return None

    def moved_window() -> None:
        search.covered_until = max(clock.aware(search.covered_until), clock.aware(row.window_end))
        search.last_period, search.last_sent_at = period, now

    sending.deliver(
        session, settings, row, emails.message(session, settings, search, row), now, moved_window
    )
    return row
