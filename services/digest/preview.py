"""What a subscriber gets this week (staff preview it, and may send it to themselves), and
every match of a digest already sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import DigestSend
from models.digests import Subscription
from services import clock, mail
from services.db import fetch
from services.digest import links, templates
from services.digest.messages import (
    compose,
    compose_reserved,
    load_items,
    message_for,
)
from services.digest.selection import period_of, window_matches


@dataclass
class Preview:
    subscription: Subscription
    period: str
    email: templates.Email | None  # None when the digest would be empty
    match_count: int
    sent: DigestSend | None = None  # this period's row, when it was already reserved or sent


def preview(
    session: Session, settings: Settings, sub: Subscription, now: datetime | None = None
) -> Preview:
    """The digest `sub` gets this week: the one reserved or sent, else what would be built."""
    now = now or clock.now()
    period = period_of(now, settings.timezone)
    row = session.scalar(
        sa.select(DigestSend).where(
            DigestSend.subscription_id == sub.id, DigestSend.period == period
        )
    )
    preview_url = links.url(settings, links.PREVIEW, subscription_id=sub.id)
    if row is not None:
        email = compose_reserved(session, settings, sub, row, preview=True)
        return Preview(sub, period, email, row.match_count, row)
    chosen = window_matches(session, settings, sub, clock.aware(sub.covered_until), now)
    if not chosen:
        return Preview(sub, period, None, 0)
    email = compose(
        session,
        settings,
        sub,
        match_ids=[c.match_id for c in chosen[: settings.digest_max_items]],
        total=len(chosen),
        since=sub.covered_until,
        all_url=preview_url,
        preview=True,
    )
    return Preview(sub, period, email, len(chosen))


def send_preview(session: Session, settings: Settings, sub: Subscription, to: str) -> bool:
    """Email this week's digest of `sub` to `to` (not logged as the period's send)."""
    shown = preview(session, settings, sub)
    if shown.email is None:
        return False
    mail.send(settings, message_for(settings, to, shown.email.unsubscribe_url, shown.email))
    return True


def get_send(session: Session, send_id: int) -> DigestSend:
    return fetch(session, DigestSend, send_id, "digest")


def send_matches(session: Session, settings: Settings, row: DigestSend) -> list[templates.Item]:
    """Every match of a sent digest's window (the email shows only the first ones)."""
    sub = row.subscription
    chosen = window_matches(session, settings, sub, row.window_start, row.window_end)
    shown = {match_id for match_id, _ in row.items}
    ids = [match_id for match_id, _ in row.items]
    ids += [c.match_id for c in chosen if c.match_id not in shown]
    return load_items(session, settings, str(sub.kind), ids)
