"""Which matches a digest holds: marks of what appeared or improved, the live candidates of a
window, and each subscriber's share of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import DigestMatchMark, Match, Offer, Project
from models.digests import Subscription, SubscriptionKind
from models.enums import MatchStatus, OfferStatus, ProjectStatus
from services import clock

DEFAULT_MIN_RISE = 0.05  # a rescored match counts as improved when it gains 5 points
LIVE_MATCH = (MatchStatus.PROPOSED, MatchStatus.SHORTLISTED, MatchStatus.ACCEPTED)


def period_of(moment: datetime, timezone: str) -> str:
    """Return the ISO week of `moment` in `timezone`, e.g. "2026-W48"."""
    year, week, _ = clock.local(moment, timezone).isocalendar()
    return f"{year}-W{week:02d}"


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
    today = clock.agency_today(settings.timezone, at=until)
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
        query = query.where(Offer.visible_to(organization_id))
    since, until = clock.aware(since), clock.aware(until)
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
            raised = clock.aware(created_at)
        elif score >= mark_score + DEFAULT_MIN_RISE:
            raised = until
        else:
            raised = clock.aware(mark_raised)
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


@dataclass(frozen=True)
class Subscriber:
    """What building needs of a subscription, read in the one subscriptions query."""

    subscription_id: int
    kind: str
    lines: frozenset[str]
    min_score: float
    organization_id: int | None
    window_start: datetime


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
        clock.aware(since),
    )
    pool = candidates(
        session, settings, since, until, organization_id=org_id, min_score=subscriber.min_score
    )
    return select_matches(subscriber, pool, clock.aware(until))
