"""Each staff member's calendar feed (RFC 5545): the deadlines of the matches they follow and
the dates of their alliances, as all-day events, at a secret address they can renew or turn off.

The address carries a signed token naming the person and their `calendar_key`; renewing the
key ends every earlier address, revoking it ends the feed. Calendar programs fetch it without
signing in, so the token is the only credential: it does not expire, and a wrong one is a 404.

Events are all-day (DATE values): deadlines and alliance dates are the agency's days
(services.clock), so they show on that day in any calendar. Each event's UID names what it is
about (a match's deadline, an alliance's start...), never its date, so a moved deadline updates
the same event instead of adding one.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, selectinload

from config import Settings
from models import Alliance, Match, Offer, User
from services import clock
from services.db import committing
from services.errors import NotFound
from services.work import emails, links, mine

SALT = "coopmatch.calendar"
DEFAULT_HISTORY = timedelta(days=365)  # events older than this are left out of the feed
PRODID = "-//CoopMatch//Staff calendar//EN"
WORDS = {
    "es": {
        "name": "CoopMatch: trabajo de {who}",
        "deadline": "Cierre: {offer}",
        "deadline_text": "Convocatoria de {ally} para el proyecto «{project}».",
        "started_on": "Inicio de la alianza: {title}",
        "formalised_on": "Formalización de la alianza: {title}",
        "ended_on": "Fin de la alianza: {title}",
    },
    "en": {
        "name": "CoopMatch: {who}'s work",
        "deadline": "Deadline: {offer}",
        "deadline_text": "Call by {ally} for the project “{project}”.",
        "started_on": "Alliance starts: {title}",
        "formalised_on": "Alliance formalised: {title}",
        "ended_on": "Alliance ends: {title}",
    },
}


def renew(session: Session, user: User) -> User:
    """Give the person a new calendar address; any earlier one stops working."""
    with committing(session):
        user.calendar_key = secrets.token_urlsafe(24)
    return user


def revoke(session: Session, user: User) -> User:
    """Turn the person's calendar address off."""
    with committing(session):
        user.calendar_key = None
    return user


def token_for(secret_key: str, user: User) -> str | None:
    """The token of the person's calendar address, or None when they have none."""
    if not user.calendar_key:
        return None
    return URLSafeSerializer(secret_key, salt=SALT).dumps({"u": user.id, "k": user.calendar_key})


def reader(session: Session, secret_key: str, token: str) -> User:
    """The staff member a token names; NotFound for a bad, renewed or revoked token."""
    unknown = NotFound("no calendar at this address")
    try:
        payload = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        raise unknown from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise unknown
    user = session.get(User, payload["u"])
    key = str(payload.get("k", ""))
    if (
        user is None
        or not user.active
        or not user.is_staff
        or not user.calendar_key
        or not hmac.compare_digest(user.calendar_key, key)
    ):
        raise unknown
    return user


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    description: str
    url: str
    modified: datetime


def events(session: Session, settings: Settings, user: User, today: date) -> list[Event]:
    """The person's deadlines and alliance dates from a year ago on, by day."""
    w = WORDS[emails.language_of(user)]
    host = urlsplit(settings.base_url).hostname or "coopmatch.invalid"
    since = today - DEFAULT_HISTORY
    found = []
    matches = session.scalars(
        mine.deadline_matches(session, owner_id=user.id).where(Offer.deadline >= since)
    )
    for match in matches:
        offer = match.offer
        found.append(
            Event(
                uid=f"match-{match.id}-deadline@{host}",
                day=offer.deadline,
                summary=w["deadline"].format(offer=offer.title),
                description=w["deadline_text"].format(
                    ally=offer.organization.name, project=match.project.title
                ),
                url=links.subject_url(settings, "match", match.id),
                modified=max(clock.aware(offer.updated_at), clock.aware(match.updated_at)),
            )
        )
    alliances = session.scalars(
        sa.select(Alliance)
        .where(Alliance.owner_id == user.id)
        .options(
            selectinload(Alliance.match).selectinload(Match.project),
            selectinload(Alliance.match).selectinload(Match.offer),
        )
    )
    for alliance in alliances:
        title = f"{alliance.match.project.title} · {alliance.match.offer.title}"
        for name in mine.ALLIANCE_DATES:
            day = getattr(alliance, name)
            if day is None or day < since:
                continue
            found.append(
                Event(
                    uid=f"alliance-{alliance.id}-{name}@{host}",
                    day=day,
                    summary=w[name].format(title=title),
                    description=title,
                    url=links.subject_url(settings, "alliance", alliance.id),
                    modified=clock.aware(alliance.updated_at),
                )
            )
    return sorted(found, key=lambda e: (e.day, e.uid))


def feed(session: Session, settings: Settings, user: User, now: datetime | None = None) -> str:
    """The person's calendar as RFC 5545 text (CRLF lines, folded at 75 octets)."""
    now = now or clock.now()
    today = clock.agency_today(settings.timezone, at=now)
    w = WORDS[emails.language_of(user)]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(w['name'].format(who=user.name or user.email))}",
        f"X-WR-TIMEZONE:{settings.timezone}",
    ]
    stamp = _utc(now)
    for event in events(session, settings, user, today):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{_utc(event.modified)}",
            f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(event.summary)}",
            f"DESCRIPTION:{escape(event.description)}",
            f"URL:{event.url}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _utc(moment: datetime) -> str:
    return clock.aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str, limit: int = 75) -> str:
    """A content line folded so no physical line passes `limit` octets (RFC 5545 3.1), never
    inside a UTF-8 character."""
    parts, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        room = limit if not parts else limit - 1  # continuation lines start with a space
        if size + width > room:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)
