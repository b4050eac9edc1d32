"""What cooperation mobilised: totals in USD and projects impacted, per year, line, ally kind
and modality. Each breakdown is one SQL aggregate (GROUP BY), never a query per alliance.

Counted: every alliance not dropped, whatever its stage, at amount x usd_rate (the rate stored
with the amount). Years come from the alliance's start date. An alliance counts toward each
thematic line of its project and each modality of its offer, so those breakdowns add up to
more than the total when a project has several lines or an offer several modalities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Alliance, Match, Offer, Organization, Project
from models.enums import AllianceStage, Line, Modality, OrgKind

FIRST_YEAR = 2008  # the agency's record starts in 2008
CHARTS = ("year", "line", "kind", "modality")


@dataclass(frozen=True)
class Bar:
    key: str
    usd: float
    projects: int


@dataclass(frozen=True)
class Totals:
    usd: float
    projects: int
    alliances: int


def _usd():
    return sa.func.coalesce(sa.func.sum(Alliance.amount * Alliance.usd_rate), 0)


def _counted(query: sa.Select) -> sa.Select:
    return (
        query.select_from(Alliance)
        .join(Match, Alliance.match_id == Match.id)
        .where(Alliance.stage != AllianceStage.DROPPED)
    )


def totals(session: Session) -> Totals:
    row = session.execute(
        _counted(
            sa.select(
                _usd(), sa.func.count(sa.distinct(Match.project_id)), sa.func.count(Alliance.id)
            )
        )
    ).one()
    return Totals(usd=float(row[0] or 0), projects=int(row[1] or 0), alliances=int(row[2] or 0))


def codes_table(values: list[str]) -> sa.Subquery:
    """A portable inline table of `values` in a column `code` (SQLite has no column aliases on
    VALUES), to join a JSON list column against with `holds_code`."""
    return sa.union_all(
        *[sa.select(sa.literal(v, sa.String()).label("code")) for v in values]
    ).subquery("codes")


def holds_code(column, codes: sa.Subquery):
    """The JSON list `column` holds the row's `codes.c.code` (its text has the quoted code)."""
    pattern = sa.literal('%"', sa.String()) + codes.c.code + sa.literal('"%', sa.String())
    return sa.cast(column, sa.String).like(pattern)


def _bars(rows, keys: list[str]) -> list[Bar]:
    found = {str(key): (float(usd or 0), int(projects or 0)) for key, usd, projects in rows}
    return [Bar(k, *found.get(k, (0.0, 0))) for k in keys]


def per_year(session: Session, today: date) -> list[Bar]:
    """Every year from 2008 to `today`'s year (or the latest alliance's), zeros included."""
    year = sa.cast(sa.extract("year", Alliance.started_on), sa.Integer).label("year")
    rows = session.execute(
        _counted(sa.select(year, _usd(), sa.func.count(sa.distinct(Match.project_id)))).group_by(
            year
        )
    ).all()
    last = max([today.year, *(int(r[0]) for r in rows if r[0] is not None)])
    first = min([FIRST_YEAR, *(int(r[0]) for r in rows if r[0] is not None)])
    return _bars(
        [(int(r[0]), r[1], r[2]) for r in rows if r[0] is not None],
        [str(y) for y in range(first, last + 1)],
    )


def _per_json_code(session: Session, column, values: list[str], join_model) -> list[Bar]:
    codes = codes_table(values)
    query = _counted(sa.select(codes.c.code, _usd(), sa.func.count(sa.distinct(Match.project_id))))
    key = Match.project_id if join_model is Project else Match.offer_id
    query = (
        query.join(join_model, key == join_model.id)
        .join(codes, holds_code(column, codes))
        .group_by(codes.c.code)
    )
    return _bars(session.execute(query).all(), values)


def per_line(session: Session) -> list[Bar]:
    """Per thematic line of the alliance's project (an alliance counts toward each line)."""
    return _per_json_code(session, Project.lines, [v.value for v in Line], Project)


def per_modality(session: Session) -> list[Bar]:
    """Per modality of the alliance's offer (an alliance counts toward each modality)."""
    return _per_json_code(session, Offer.modalities, [v.value for v in Modality], Offer)


def per_kind(session: Session) -> list[Bar]:
    """Per kind of ally: the organisation behind the alliance's offer."""
    query = (
        _counted(sa.select(Organization.kind, _usd(), sa.func.count(sa.distinct(Match.project_id))))
        .join(Offer, Match.offer_id == Offer.id)
        .join(Organization, Offer.organization_id == Organization.id)
        .group_by(Organization.kind)
    )
    rows = [(getattr(k, "value", k), usd, n) for k, usd, n in session.execute(query).all()]
    return _bars(
        rows,
        [v.value for v in OrgKind if v != OrgKind.LOCAL_PUBLIC]
        + (["local_public"] if any(r[0] == "local_public" for r in rows) else []),
    )


def chart(session: Session, name: str, today: date) -> list[Bar]:
    """Return the bars of the chart `name` (one of CHARTS)."""
    if name == "year":
        return per_year(session, today)
    if name == "line":
        return per_line(session)
    if name == "kind":
        return per_kind(session)
    if name == "modality":
        return per_modality(session)
    raise KeyError(name)
