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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from models import DigestMatchMark, DigestSend, Match, Offer, Organization, Project, User
from models.digests import DigestSendStatus, Subscription, SubscriptionKind, SubscriptionStatus
from models.enums import Line, MatchStatus, OfferStatus, ProjectStatus, Role
from services import digest_mail, locks, mail, signed_links
from services.catalog import Page
from services.db import committing, fetch
from services.errors import Invalid

DEFAULT_MIN_RISE = 0.05  # a rescored match counts as improved when it gains 5 points
DEFAULT_FIRST_WINDOW = timedelta(days=7)  # a new (or resumed) subscriber gets the last week
DEFAULT_CLAIM_SECONDS = 300  # a claimed row no worker finished is taken again after this
DEFAULT_TOKEN_MAX_AGE = timedelta(days=60)
DEFAULT_RETRY_BASE = 60  # seconds before the first retry of a failed send; doubles each time
DEFAULT_RETRY_MAX = 3600
UNSUBSCRIBE_SALT = "digest-unsubscribe"
WEEKLY_LOCK = "digest_weekly"
LIVE_MATCH = (MatchStatus.PROPOSED, MatchStatus.SHORTLISTED, MatchStatus.ACCEPTED)
SENDABLE = (DigestSendStatus.PENDING, DigestSendStatus.FAILED)


InvalidLink = signed_links.InvalidLink
LinkExpired = signed_links.LinkExpired


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def period_of(moment: datetime, timezone: str) -> str:
    """Return the ISO week of `moment` in `timezone`, e.g. "2026-W48"."""
    year, week, _ = _aware(moment).astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def retry_delay(attempts: int, base: int = DEFAULT_RETRY_BASE) -> int:
    """Seconds to wait before retrying a send that failed `attempts` times (exponential)."""
    return min(base * 2 ** max(attempts - 1, 0), DEFAULT_RETRY_MAX)


# -- subscriptions ----------------------------------------------------------------------------


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
    if language not in digest_mail.LANGUAGES:
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
    now = now or _now()
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
            sub.covered_until = max(_aware(sub.covered_until), now - DEFAULT_FIRST_WINDOW)
        sub.lines, sub.min_score, sub.language = lines, float(min_score), language
        if status == SubscriptionStatus.UNSUBSCRIBED and sub.status != status:
            sub.unsubscribed_at = now
        sub.status = status
    return sub


def ensure_partner_subscriptions(session: Session, now: datetime | None = None) -> int:
    """Subscribe every active partner user whose organisation has offers; return how many new.

    A partner who unsubscribed keeps that choice: only users with no subscription are added.
    """
    now = now or _now()
    has_offers = sa.exists().where(Offer.organization_id == User.organization_id)
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


# -- unsubscribing by a signed link -----------------------------------------------------------


def unsubscribe_token(secret_key: str, subscription_id: int) -> str:
    """A signed, timestamped token naming the subscription (checked with its max age)."""
    return signed_links.sign(secret_key, UNSUBSCRIBE_SALT, {"s": subscription_id})


def read_unsubscribe_token(
    session: Session, secret_key: str, token: str, max_age: timedelta = DEFAULT_TOKEN_MAX_AGE
) -> Subscription:
    """Return the subscription a token names; InvalidLink when altered, LinkExpired when old."""
    payload = signed_links.read(
        secret_key,
        UNSUBSCRIBE_SALT,
        token,
        max_age,
        expired="this unsubscribe link has expired",
        invalid="this unsubscribe link is not valid",
    )
    if not isinstance(payload.get("s"), int):
        raise InvalidLink("this unsubscribe link is not valid")
    sub = session.get(Subscription, payload["s"])
    if sub is None:
        raise InvalidLink("this unsubscribe link is not valid")
    return sub


def unsubscribe(session: Session, sub: Subscription, now: datetime | None = None) -> bool:
    """Unsubscribe; False when it already was (a link works once)."""
    changed = session.execute(
        sa.update(Subscription)
        .where(Subscription.id == sub.id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
        .values(
            status=SubscriptionStatus.UNSUBSCRIBED,
            unsubscribed_at=now or _now(),
            updated_at=sa.func.now(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(sub)
    return changed == 1


# -- marks: what appeared or improved ---------------------------------------------------------


def refresh_marks(session: Session, now: datetime) -> None:
    """Mark new matches (at their creation) and matches that rose by DEFAULT_MIN_RISE (at now).

    The caller commits. Two statements, whatever the number of matches.
    """
    known = sa.exists().where(DigestMatchMark.match_id == Match.id)
    session.execute(
        sa.insert(DigestMatchMark).from_select(
            ["match_id", "score", "raised_at"],
            sa.select(Match.id, Match.score, Match.created_at).where(~known),
        )
    )
    risen = sa.exists().where(
        Match.id == DigestMatchMark.match_id,
        Match.score >= DigestMatchMark.score + DEFAULT_MIN_RISE,
    )
    session.execute(
        sa.update(DigestMatchMark)
        .where(risen)
        .values(
            score=sa.select(Match.score)
            .where(Match.id == DigestMatchMark.match_id)
            .scalar_subquery(),
            raised_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    match_id: int
    score: float
    raised_at: datetime
    lines: frozenset[str]
    organization_id: int  # the offer's organisation


def candidates(
    session: Session,
    settings: Settings,
    since: datetime,
    until: datetime,
    *,
    organization_id: int | None = None,
    min_score: float = 0.0,
) -> list[Candidate]:
    """Every live match that appeared or rose in (since, until], best first: one query.

    A match not yet marked counts at its creation; one that rose past its mark counts at
    `until` (the weekly run marks both first, so the two readings agree).
    """
    today = _aware(until).astimezone(ZoneInfo(settings.timezone)).date()
    mark = DigestMatchMark
    query = (
        sa.select(
            Match.id,
            Match.score,
            Match.created_at,
            mark.score,
            mark.raised_at,
            Project.lines,
            Offer.lines,
            Offer.organization_id,
        )
        .join(Project, Project.id == Match.project_id)
        .join(Offer, Offer.id == Match.offer_id)
        .outerjoin(mark, mark.match_id == Match.id)
        .where(
            Match.status.in_(LIVE_MATCH),
            Offer.status == OfferStatus.PUBLISHED,
            Project.status == ProjectStatus.OPEN,
            sa.or_(Offer.deadline.is_(None), Offer.deadline >= today),
            Match.score >= min_score,
            sa.or_(
                mark.match_id.is_(None),
                Match.score >= mark.score + DEFAULT_MIN_RISE,
                mark.raised_at > since,
            ),
        )
        .order_by(Match.score.desc(), Match.id)
    )
    if organization_id is not None:
        query = query.where(Offer.organization_id == organization_id)
    since, until = _aware(since), _aware(until)
    out = []
    for (
        match_id,
        score,
        created_at,
        mark_score,
        mark_raised,
        project_lines,
        offer_lines,
        org_id,
    ) in session.execute(query):
        if mark_score is None:
            raised = _aware(created_at)
        elif score >= mark_score + DEFAULT_MIN_RISE:
            raised = until
        else:
            raised = _aware(mark_raised)
        if since < raised <= until:
            out.append(
                Candidate(
                    match_id,
                    float(score),
                    raised,
                    frozenset(project_lines or ()) | frozenset(offer_lines or ()),
                    org_id,
                )
            )
    return out


# -- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    """What building needs of a subscription, read in the one subscriptions query."""

    subscription_id: int
    kind: str
    lines: frozenset[str]
    min_score: float
    organization_id: int | None
    window_start: datetime


@dataclass
class Digest:
    subscription_id: int
    window_start: datetime
    window_end: datetime
    match_count: int
    items: list[list] = field(default_factory=list)  # [[match_id, score], ...] best first


def select_matches(
    subscriber: Subscriber, pool: list[Candidate], until: datetime
) -> list[Candidate]:
    """The candidates (best first) that `subscriber` gets for (window_start, until]."""
    chosen = []
    for cand in pool:
        if cand.score < subscriber.min_score:
            break  # the pool is sorted best first
        if not subscriber.window_start < cand.raised_at <= until:
            continue
        if subscriber.lines and not subscriber.lines & cand.lines:
            continue
        if subscriber.kind == SubscriptionKind.PARTNER and (
            cand.organization_id != subscriber.organization_id
        ):
            continue
        chosen.append(cand)
    return chosen


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
                sub_id, str(kind), frozenset(lines or ()), float(min_score), org_id, _aware(covered)
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
    rows = [
        {
            "subscription_id": d.subscription_id,
            "period": period,
            "status": DigestSendStatus.PENDING,
            "attempts": 0,
            "window_start": d.window_start,
            "window_end": d.window_end,
            "match_count": d.match_count,
            "items": d.items,
        }
        for d in digests
    ]
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(sa.insert(DigestSend), rows)
        return len(rows)
    except IntegrityError:
        pass  # another run reserved some of them meanwhile: insert one by one
    reserved = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(sa.insert(DigestSend), [row])
            reserved += 1
        except IntegrityError:
            continue
    return reserved


# -- sending ----------------------------------------------------------------------------------


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
    now = now or _now()
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
    for subscription_id in _due(session, period, now):
        try:
            if send_one(session, settings, subscription_id, period, now=now) is not None:
                result.sent += 1
        except mail.MailError:
            result.failed.append(subscription_id)
    return result


def _due(session: Session, period: str, now: datetime) -> list[int]:
    stale = now - timedelta(seconds=DEFAULT_CLAIM_SECONDS)
    ids = list(
        session.scalars(
            sa.select(DigestSend.subscription_id)
            .where(
                DigestSend.period == period,
                DigestSend.status.in_(SENDABLE),
                sa.or_(DigestSend.claimed_at.is_(None), DigestSend.claimed_at < stale),
            )
            .order_by(DigestSend.id)
        )
    )
    session.commit()
    return ids


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    stale = now - timedelta(seconds=DEFAULT_CLAIM_SECONDS)
    taken = session.execute(
        sa.update(DigestSend)
        .where(
            DigestSend.id == row_id,
            DigestSend.status.in_(SENDABLE),
            sa.or_(DigestSend.claimed_at.is_(None), DigestSend.claimed_at < stale),
        )
        .values(claimed_at=now, attempts=DigestSend.attempts + 1, updated_at=sa.func.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return taken == 1


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
    now = now or _now()
    row = session.scalar(
        sa.select(DigestSend).where(
            DigestSend.subscription_id == subscription_id, DigestSend.period == period
        )
    )
    session.commit()
    if row is None or not _claim(session, row.id, now):
        return None
    session.refresh(row)
    sub = row.subscription
    session.refresh(sub)
    if sub.status != SubscriptionStatus.ACTIVE or not sub.user.active:
        with committing(session):
            session.delete(row)  # nothing was sent: a later run this period may build again
        return None
    if _aware(sub.covered_until) > _aware(row.window_start):
        with committing(session):  # a later period was sent already and covered this one
            row.status, row.claimed_at = DigestSendStatus.FAILED, None
            row.last_error = "superseded by a later digest"
        return None
    message = compose_message(session, settings, sub, row)
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
        sub.covered_until = max(_aware(sub.covered_until), _aware(row.window_end))
        sub.last_period, sub.last_sent_at = period, now
    return row


# -- composing --------------------------------------------------------------------------------


def load_items(
    session: Session, settings: Settings, kind: str, match_ids: list[int]
) -> list[digest_mail.Item]:
    """The matches to show, in the given order, with their titles and links: one query."""
    if not match_ids:
        return []
    rows = session.execute(
        sa.select(
            Match.id,
            Match.project_id,
            Match.offer_id,
            Match.score,
            Match.explanation,
            Project.title,
            Offer.title,
            Offer.deadline,
            Organization.name,
        )
        .join(Project, Project.id == Match.project_id)
        .join(Offer, Offer.id == Match.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .where(Match.id.in_(match_ids))
    )
    by_id = {}
    for (
        match_id,
        project_id,
        offer_id,
        score,
        explanation,
        project_title,
        offer_title,
        deadline,
        ally,
    ) in rows:
        by_id[match_id] = digest_mail.Item(
            match_id,
            project_id,
            offer_id,
            project_title,
            offer_title,
            ally,
            float(score),
            deadline,
            explanation,
            match_url(settings, kind, project_id, offer_id, match_id),
        )
    return [by_id[i] for i in match_ids if i in by_id]


def match_url(settings: Settings, kind: str, project_id: int, offer_id: int, match_id: int) -> str:
    """Staff open the project's page at the match; partners their offer's match list."""
    if kind == SubscriptionKind.PARTNER:
        return f"{settings.base_url}/digest/offers/{offer_id}/matches#match-{match_id}"
    return f"{settings.base_url}/staff/projects/{project_id}#match-{match_id}"


def unsubscribe_url(settings: Settings, subscription_id: int) -> str:
    token = unsubscribe_token(settings.secret_key, subscription_id)
    return f"{settings.base_url}/digest/unsubscribe/{token}"


def compose(
    session: Session,
    settings: Settings,
    sub: Subscription,
    *,
    match_ids: list[int],
    total: int,
    since: datetime,
    all_url: str,
    preview: bool = False,
) -> digest_mail.Email:
    """Subject, text and HTML of `sub`'s digest showing `match_ids` out of `total`."""
    items = load_items(session, settings, str(sub.kind), match_ids)
    local_since = _aware(since).astimezone(ZoneInfo(settings.timezone))
    return digest_mail.compose(
        lang=str(sub.language),
        kind=str(sub.kind),
        items=items,
        total=total,
        since=local_since,
        all_url=all_url,
        manage_url=f"{settings.base_url}/digest/subscriptions",
        unsubscribe_url=unsubscribe_url(settings, sub.id),
        preview=preview,
    )


def compose_message(session: Session, settings: Settings, sub: Subscription, row: DigestSend):
    """The email for a reserved row, with RFC 8058 one-click unsubscribe headers."""
    email = compose(
        session,
        settings,
        sub,
        match_ids=[i for i, _ in row.items],
        total=row.match_count,
        since=row.window_start,
        all_url=f"{settings.base_url}/digest/sends/{row.id}",
    )
    message_id = f"<digest-{sub.id}-{row.period}@{_mail_domain(settings)}>"
    return _message(settings, sub.user.email, sub, email, message_id)


def _mail_domain(settings: Settings) -> str:
    sender = settings.mail_sender.rsplit("@", 1)[-1].strip(" >")
    return sender or "coopmatch.invalid"


def _message(
    settings: Settings,
    to: str,
    sub: Subscription,
    email: digest_mail.Email,
    message_id: str | None = None,
):
    # https://www.rfc-editor.org/rfc/rfc8058: the URI must accept a POST without a session.
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url(settings, sub.id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    message = mail.build_message(settings, to, email.subject, email.text, email.html, headers)
    if message_id:
        message.replace_header("Message-ID", message_id)
    return message


# -- preview ----------------------------------------------------------------------------------


@dataclass
class Preview:
    subscription: Subscription
    period: str
    email: digest_mail.Email | None  # None when the digest would be empty
    match_count: int
    sent: DigestSend | None = None  # this period's row, when it was already reserved or sent


def preview(
    session: Session, settings: Settings, sub: Subscription, now: datetime | None = None
) -> Preview:
    """The digest `sub` gets this week: the one reserved or sent, else what would be built."""
    now = now or _now()
    period = period_of(now, settings.timezone)
    row = session.scalar(
        sa.select(DigestSend).where(
            DigestSend.subscription_id == sub.id, DigestSend.period == period
        )
    )
    preview_url = f"{settings.base_url}/digest/preview/{sub.id}"
    if row is not None:
        email = compose(
            session,
            settings,
            sub,
            match_ids=[i for i, _ in row.items],
            total=row.match_count,
            since=row.window_start,
            all_url=f"{settings.base_url}/digest/sends/{row.id}",
            preview=True,
        )
        return Preview(sub, period, email, row.match_count, row)
    chosen = window_matches(session, settings, sub, _aware(sub.covered_until), now)
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


def window_matches(
    session: Session, settings: Settings, sub: Subscription, since: datetime, until: datetime
) -> list[Candidate]:
    """The matches `sub` gets for the window (since, until], best first."""
    org_id = sub.user.organization_id if sub.kind == SubscriptionKind.PARTNER else None
    subscriber = Subscriber(
        sub.id,
        str(sub.kind),
        frozenset(sub.lines or ()),
        float(sub.min_score),
        org_id,
        _aware(since),
    )
    pool = candidates(
        session, settings, since, until, organization_id=org_id, min_score=subscriber.min_score
    )
    return select_matches(subscriber, pool, _aware(until))


def send_preview(session: Session, settings: Settings, sub: Subscription, to: str) -> bool:
    """Email this week's digest of `sub` to `to` (not logged as the period's send)."""
    shown = preview(session, settings, sub)
    if shown.email is None:
        return False
    mail.send(settings, _message(settings, to, sub, shown.email))
    return True


def get_send(session: Session, send_id: int) -> DigestSend:
    return fetch(session, DigestSend, send_id, "digest")


def send_matches(session: Session, settings: Settings, row: DigestSend) -> list[digest_mail.Item]:
    """Every match of a sent digest's window (the email shows only the first ones)."""
    sub = row.subscription
    chosen = window_matches(session, settings, sub, row.window_start, row.window_end)
    shown = {match_id for match_id, _ in row.items}
    ids = [match_id for match_id, _ in row.items]
    ids += [c.match_id for c in chosen if c.match_id not in shown]
    return load_items(session, settings, str(sub.kind), ids)
