"""One staff member's work: the projects, matches and alliances they own, and the deadlines
and dates that come next (the "my work" page, reminders and the calendar share these rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from models import Alliance, Match, Offer, Project
from models.enums import AllianceStage, MatchStatus, OfferStatus, ProjectStatus

FOLLOWED = (MatchStatus.SHORTLISTED, MatchStatus.ACCEPTED)
# An alliance past negotiation has its agreement: its offer's deadline no longer matters.
OPEN_STAGES = (AllianceStage.NEGOTIATING,)
OVER = (AllianceStage.CLOSED, AllianceStage.DROPPED)
ALLIANCE_DATES = ("started_on", "formalised_on", "ended_on")
GONE = (OfferStatus.WITHDRAWN, OfferStatus.REJECTED)  # offers whose deadline means nothing now


def deadline_matches(session: Session, owner_id: int | None = None) -> sa.Select:
    """Matches whose offer deadline is worth a reminder: shortlisted or accepted, the offer
    has a deadline and was not withdrawn or rejected, and no alliance or one still
    negotiating; owned (by `owner_id` if given)."""
    query = (
        sa.select(Match)
        .join(Offer, Offer.id == Match.offer_id)
        .outerjoin(Alliance, Alliance.match_id == Match.id)
        .where(
            Match.status.in_(FOLLOWED),
            Match.owner_id.is_not(None),
            Offer.deadline.is_not(None),
            Offer.status.not_in(GONE),
            sa.or_(Alliance.id.is_(None), Alliance.stage.in_(OPEN_STAGES)),
        )
        .options(selectinload(Match.project), selectinload(Match.offer))
    )
    if owner_id is not None:
        query = query.where(Match.owner_id == owner_id)
    return query


def by_nearest_deadline(matches: list[Match], today: date) -> list[Match]:
    """Upcoming deadlines first (nearest first), then none, then passed ones (latest first)."""

    def key(match: Match):
        deadline = match.offer.deadline
        if deadline is None:
            return (1, 0, match.id)
        if deadline >= today:
            return (0, (deadline - today).days, match.id)
        return (2, (today - deadline).days, match.id)

    return sorted(matches, key=key)


def next_date(alliance: Alliance, today: date) -> tuple[str, date] | None:
    """The alliance's next dated step from today: (which, when), or None."""
    upcoming = [
        (getattr(alliance, name), name)
        for name in ALLIANCE_DATES
        if getattr(alliance, name) is not None and getattr(alliance, name) >= today
    ]
    if not upcoming:
        return None
    when, name = min(upcoming)
    return name, when


@dataclass
class MyWork:
    projects: list[Project] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    # (alliance, (which date, when) or None), next dates first
    alliances: list[tuple[Alliance, tuple[str, date] | None]] = field(default_factory=list)


def of(session: Session, user_id: int, today: date) -> MyWork:
    """What `user_id` owns: open projects first, followed matches by nearest deadline, and
    alliances not over with their next dates."""
    projects = session.scalars(
        sa.select(Project)
        .where(Project.owner_id == user_id)
        .order_by(sa.case((Project.status == ProjectStatus.OPEN, 0), else_=1), Project.title)
    ).all()
    matches = session.scalars(
        sa.select(Match)
        .where(Match.owner_id == user_id, Match.status.in_(FOLLOWED))
        .options(selectinload(Match.project), selectinload(Match.offer))
    ).all()
    alliances = session.scalars(
        sa.select(Alliance)
        .where(Alliance.owner_id == user_id, Alliance.stage.not_in(OVER))
        .options(
            selectinload(Alliance.match).selectinload(Match.project),
            selectinload(Alliance.match).selectinload(Match.offer),
        )
    ).all()
    dated = [(a, next_date(a, today)) for a in alliances]
    dated.sort(key=lambda pair: (pair[1] is None, pair[1][1] if pair[1] else today, pair[0].id))
    return MyWork(list(projects), by_nearest_deadline(list(matches), today), dated)
