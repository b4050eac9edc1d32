"""The digest's delivery machinery, for any table of sends (models.digests.DeliveryRow).

Every email CoopMatch sends to a list of people on a schedule (the weekly digest, saved-search
emails) goes through these steps, so each one is sent exactly once per (recipient, period):

1. `reserve`: insert the period's rows (status pending, with what the email shows) in one
   transaction; UNIQUE (owner, period) skips recipients another run reserved.
2. `claim`: one worker takes a row (attempts + 1, claimed_at), so two never send it at once;
   a claim left by a worker that died is taken again after DEFAULT_CLAIM_SECONDS.
3. `deliver`: hand the message to SMTP, then mark the row sent in the same commit that moves
   the recipient's window (the caller's `on_sent`). A refused message marks the row failed
   and raises mail.MailError, for the caller to retry after `retry_delay`.

The one window left is a crash after the SMTP server accepted the message and before that
commit: the row stays claimed and is sent again after DEFAULT_CLAIM_SECONDS (at-least-once;
callers give the message a Message-ID fixed per row, so mail clients show it once).

One-click unsubscribing (RFC 8058) is shared too: `unsubscribe_token` signs a recipient's id
with a salt per kind of email, and `list_headers` are the headers every such email carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from config import Settings
from models.digests import DigestSendStatus
from services import clock, mail, signed_links
from services.db import committing

DEFAULT_CLAIM_SECONDS = 300  # a claimed row no worker finished is taken again after this
DEFAULT_RETRY_BASE = 60  # seconds before the first retry of a failed send; doubles each time
DEFAULT_RETRY_MAX = 3600
DEFAULT_TOKEN_MAX_AGE = timedelta(days=60)
SENDABLE = (DigestSendStatus.PENDING, DigestSendStatus.FAILED)


@dataclass(frozen=True)
class Ledger:
    """A table of sends: its model and the column naming whom each row is for."""

    model: type
    owner: InstrumentedAttribute


def retry_delay(attempts: int, base: int = DEFAULT_RETRY_BASE) -> int:
    """Seconds to wait before retrying a send that failed `attempts` times (exponential)."""
    return min(base * 2 ** max(attempts - 1, 0), DEFAULT_RETRY_MAX)


def reserve(session: Session, ledger: Ledger, rows: list[dict]) -> int:
    """Insert pending rows (the caller commits); the unique key skips ones reserved meanwhile."""
    rows = [{"status": DigestSendStatus.PENDING, "attempts": 0, **row} for row in rows]
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(sa.insert(ledger.model), rows)
        return len(rows)
    except IntegrityError:
        pass  # another run reserved some of them meanwhile: insert one by one
    reserved = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(sa.insert(ledger.model), [row])
            reserved += 1
        except IntegrityError:
            continue
    return reserved


def _unclaimed(model, now: datetime):
    stale = now - timedelta(seconds=DEFAULT_CLAIM_SECONDS)
    return sa.and_(
        model.status.in_(SENDABLE), sa.or_(model.claimed_at.is_(None), model.claimed_at < stale)
    )


def due(session: Session, ledger: Ledger, periods: list[str], now: datetime) -> list[tuple]:
    """(owner id, period) of every row of `periods` waiting to be sent, oldest first."""
    model = ledger.model
    rows = session.execute(
        sa.select(ledger.owner, model.period)
        .where(model.period.in_(periods), _unclaimed(model, now))
        .order_by(model.id)
    ).all()
    session.commit()
    return [tuple(row) for row in rows]


def claim(session: Session, ledger: Ledger, owner_id: int, period: str, now: datetime):
    """Take the (owner, period) row for sending; return it, or None when there is nothing to
    send (no row, already sent, or held by another worker)."""
    model = ledger.model
    row = session.scalar(sa.select(model).where(ledger.owner == owner_id, model.period == period))
    session.commit()
    if row is None:
        return None
    taken = session.execute(
        sa.update(model)
        .where(model.id == row.id, _unclaimed(model, now))
        .values(claimed_at=now, attempts=model.attempts + 1, updated_at=sa.func.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if taken != 1:
        return None
    session.refresh(row)
    return row


def drop(session: Session, row) -> None:
    """Delete a claimed row nothing was sent for (its recipient stopped): a later run may build
    the period again."""
    with committing(session):
        session.delete(row)


def supersede(session: Session, row) -> None:
    """Set aside a claimed row whose window a later email already covered."""
    with committing(session):
        row.status, row.claimed_at = DigestSendStatus.FAILED, None
        row.last_error = "superseded by a later email"


def superseded(covered_until: datetime, row) -> bool:
    """True when the recipient's window moved past the row's start since it was reserved."""
    return clock.aware(covered_until) > clock.aware(row.window_start)


def deliver(
    session: Session,
    settings: Settings,
    row,
    message,
    now: datetime,
    on_sent: Callable[[], None],
) -> None:
    """Send `message` for a claimed row; mark it sent, with `on_sent`'s changes, in one commit.

    On an SMTP failure the row is marked failed with the error and mail.MailError is raised.
    """
    try:
        mail.send(settings, message)
    except mail.MailError as exc:
        with committing(session):
            row.status, row.claimed_at = DigestSendStatus.FAILED, None
            row.last_error = str(exc)[:2000]
        raise
    with committing(session):
        row.status, row.sent_at, row.claimed_at = DigestSendStatus.SENT, now, None
        row.message_id, row.last_error = message["Message-ID"], None
        on_sent()


def send_all(
    session: Session,
    ledger: Ledger,
    periods: list[str],
    now: datetime,
    send_one: Callable[[int, str], object | None],
) -> tuple[int, list[tuple[int, str]]]:
    """Send every due row of `periods` with `send_one(owner_id, period)`; return how many were
    sent and the (owner id, period) pairs the SMTP server refused, to retry later."""
    sent, failed = 0, []
    for owner_id, period in due(session, ledger, periods, now):
        try:
            if send_one(owner_id, period) is not None:
                sent += 1
        except mail.MailError:
            failed.append((owner_id, period))
    return sent, failed


def mail_domain(settings: Settings) -> str:
    """The domain of the sender address, for Message-IDs fixed per row."""
    sender = settings.mail_sender.rsplit("@", 1)[-1].strip(" >")
    return sender or "coopmatch.invalid"


def list_headers(unsubscribe_url: str) -> dict[str, str]:
    """The headers of a list email: RFC 8058 one-click unsubscribe, and no auto-replies."""
    # https://www.rfc-editor.org/rfc/rfc8058: the URI must accept a POST without a session.
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


def link_generation(unsubscribed_at) -> str:
    """What makes a recipient's unsubscribe links of one subscription period differ from the
    next: the time of its last unsubscription (kept when it subscribes again)."""
    return unsubscribed_at.isoformat() if unsubscribed_at is not None else ""


def unsubscribe_token(secret_key: str, salt: str, recipient_id: int, generation: str = "") -> str:
    """A signed, timestamped token naming a recipient and its subscription period
    (`link_generation`): a link works once, and not again after a new subscription."""
    return signed_links.sign(secret_key, salt, {"s": recipient_id, "g": generation})


def read_unsubscribe_token(
    secret_key: str, salt: str, token: str, max_age: timedelta = DEFAULT_TOKEN_MAX_AGE
) -> tuple[int, str]:
    """(recipient id, generation) a token names; InvalidLink when altered, LinkExpired when old."""
    payload = signed_links.read(
        secret_key,
        salt,
        token,
        max_age,
        expired="this unsubscribe link has expired",
        invalid="this unsubscribe link is not valid",
    )
    if not isinstance(payload.get("s"), int) or not isinstance(payload.get("g", ""), str):
        raise signed_links.InvalidLink("this unsubscribe link is not valid")
    return payload["s"], payload.get("g", "")


def check_generation(generation: str, unsubscribed_at, unsubscribed: bool) -> None:
    """InvalidLink for a link from an earlier subscription period: it was used (or the
    person unsubscribed another way) and they subscribed again since."""
    if not unsubscribed and generation != link_generation(unsubscribed_at):
        raise signed_links.InvalidLink("this unsubscribe link was already used")
