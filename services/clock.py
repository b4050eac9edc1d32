"""Now and today: one clock for the whole service.

Instants are stored and compared in UTC; days (deadlines, alliance dates, reports, the weekly
digest's ISO week) are the agency's days, in its time zone (`COOPMATCH_TIMEZONE`). Use these
instead of `datetime.now()` or `date.today()`, which answer in the server's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """`moment` with its time zone: SQLite gives naive datetimes, and all stored is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def local(moment: datetime, timezone: str) -> datetime:
    """`moment` in the agency's time zone `timezone`."""
    return aware(moment).astimezone(ZoneInfo(timezone))


def agency_today(timezone: str, at: datetime | None = None) -> date:
    """The agency's date at `at` (default now), in its time zone `timezone`."""
    return local(at or now(), timezone).date()
