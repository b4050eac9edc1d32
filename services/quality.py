"""How good the suggestions are: the staff's decisions on matches against the matches' scores,
and the learned ranker's retrains (`ranker_runs`). Each breakdown is one SQL aggregate
(GROUP BY on the database), never a loop over matches.

Decided: a match accepted or rejected by staff (status `accepted` or `rejected`, with its
`decided_at`). Proposed and shortlisted matches wait for a decision, and withdrawn ones left the
queue without one (the matcher no longer suggests them, or their project or offer closed), so
none of them counts. A decision counts in
the period by its `decided_at`; months are the agency's (services.clock). A match counts toward
each thematic line of its project, so the lines add up to more than the total when a project
has several.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer, joinedload

from models import Match, Offer, Organization, Project, RankerRun
from models.enums import Line, MatchStatus, OrgKind
from services import clock
from services.errors import Invalid
from services.matching import ranker_runs
from services.reports import codes_table, holds_code

DECIDED = (MatchStatus.ACCEPTED, MatchStatus.REJECTED)
BANDS = 10  # score bands of 0.1: [0.0, 0.1) ... [0.9, 1.0]
MONTHS = 12
PERIODS = {"90d": 90, "12m": 365, "all": None}  # the period's days (None: every decision)
DEFAULT_PERIOD = "12m"
CHARTS = ("band", "line", "kind", "month")
DEFAULT_HISTORY = 50


@dataclass(frozen=True)
class Rate:
    """Decisions in one group: `key` is a band's lower bound ("0.3"), a code or a month."""

    key: str
    decided: int
    accepted: int
    mean_score: float | None  # None when nothing was decided

    @property
    def rejected(self) -> int:
        return self.decided - self.accepted

    @property
    def rate(self) -> float | None:
        """The share accepted, or None when nothing was decided."""
        return self.accepted / self.decided if self.decided else None


@dataclass(frozen=True)
class Report:
    period: str
    since: datetime | None
    total: Rate
    charts: dict[str, list[Rate]]


def check_period(period: str | None) -> str:
    """The period code to use (the default when none is given); Invalid names a bad one."""
    if period in (None, ""):
        return DEFAULT_PERIOD
    if period not in PERIODS:
        raise Invalid(
            f"unknown period {period!r}",
            {"period": [f"Choose one of {', '.join(PERIODS)}."]},
        )
    return period


def since(period: str, now: datetime) -> datetime | None:
    """The first instant of `period` ending at `now` (None: since the beginning)."""
    days = PERIODS[check_period(period)]
    return None if days is None else _utc(now) - timedelta(days=days)


def _utc(moment: datetime) -> datetime:
    # SQLite stores instants as UTC text without their zone: bind every bound in UTC
    return clock.aware(moment).astimezone(UTC)


def _aggregates():
    accepted = sa.func.sum(sa.case((Match.status == MatchStatus.ACCEPTED, 1), else_=0))
    return sa.func.count(Match.id), accepted, sa.func.avg(Match.score)


def _decided(query: sa.Select, start: datetime | None, end: datetime | None = None) -> sa.Select:
    # The statuses as literals in the SQL, not parameters: then the database can prove the
    # partial index ix_matches_decisions applies, whatever plan it caches.
    statuses = sa.bindparam(
        "decided_statuses", [s.value for s in DECIDED], expanding=True, literal_execute=True
    )
    query = query.where(Match.status.in_(statuses), Match.decided_at.is_not(None))
    if start is not None:
        query = query.where(Match.decided_at >= start)
    if end is not None:
        query = query.where(Match.decided_at < end)
    return query


def _rates(rows, keys: list[str]) -> list[Rate]:
    found = {}
    for key, decided, accepted, mean in rows:
        code = str(getattr(key, "value", key))
        found[code] = Rate(code, int(decided or 0), int(accepted or 0), _mean(mean, decided))
    return [found.get(k, Rate(k, 0, 0, None)) for k in keys]


def _mean(value, decided) -> float | None:
    return float(value) if decided and value is not None else None


def band_key(index: int) -> str:
    """The label of band `index` (0-9): its lower bound, "0.0" ... "0.9"."""
    return f"{index / BANDS:.1f}"


def band_of():
    """The band index (0-9) of a match's score, as SQL: comparisons with the literal bounds
    (exact on both databases, unlike a cast, which rounds on PostgreSQL and truncates on
    SQLite); a score of 1.0 falls in the last band."""
    whens = [(Match.score >= index / BANDS, index) for index in range(BANDS - 1, 0, -1)]
    return sa.case(*whens, else_=0)


def total(session: Session, start: datetime | None) -> Rate:
    """Every decision from `start` on."""
    row = session.execute(_decided(sa.select(*_aggregates()), start)).one()
    return Rate("all", int(row[0] or 0), int(row[1] or 0), _mean(row[2], row[0]))


def summed(rows: list[Rate]) -> Rate:
    """The rows together (the bands add up to every decision: each match is in one band)."""
    decided = sum(r.decided for r in rows)
    weighted = sum(r.mean_score * r.decided for r in rows if r.decided)
    return Rate(
        "all", decided, sum(r.accepted for r in rows), weighted / decided if decided else None
    )


def band_query(start: datetime | None) -> sa.Select:
    """(band index, decided, accepted, mean score) per band with decisions from `start` on."""
    band = band_of().label("band")
    return _decided(sa.select(band, *_aggregates()), start).group_by(band)


def per_band(session: Session, start: datetime | None) -> list[Rate]:
    """The ten score bands, zeros included: the calibration chart's points."""
    rows = session.execute(band_query(start)).all()
    return _rates(
        [(band_key(int(b)), *rest) for b, *rest in rows], [band_key(i) for i in range(BANDS)]
    )


def line_query(start: datetime | None) -> sa.Select:
    """(line code, decided, accepted, mean score) per thematic line with decisions."""
    # Sum per project first (one pass over the matches), then spread the projects' sums over
    # their lines: the JSON test then runs once per project and line, not per match and line.
    count, accepted, _mean_score = _aggregates()
    per_project = (
        _decided(
            sa.select(
                Match.project_id,
                count.label("decided"),
                accepted.label("accepted"),
                sa.func.sum(Match.score).label("score_sum"),
            ),
            start,
        )
        .group_by(Match.project_id)
        .subquery("per_project")
    )
    values = [v.value for v in Line]
    codes = codes_table(values)
    decided = sa.func.sum(per_project.c.decided)
    return (
        sa.select(
            codes.c.code,
            decided,
            sa.func.sum(per_project.c.accepted),
            sa.func.sum(per_project.c.score_sum) / decided,
        )
        .select_from(per_project)
        .join(Project, per_project.c.project_id == Project.id)
        .join(codes, holds_code(Project.lines, codes))
        .group_by(codes.c.code)
    )


def per_line(session: Session, start: datetime | None) -> list[Rate]:
    """Per thematic line of the match's project (a match counts toward each of its lines)."""
    return _rates(session.execute(line_query(start)).all(), [v.value for v in Line])


def per_kind(session: Session, start: datetime | None) -> list[Rate]:
    """Per kind of ally: the organisation behind the match's offer."""
    query = (
        _decided(sa.select(Organization.kind, *_aggregates()), start)
        .select_from(Match)
        .join(Offer, Match.offer_id == Offer.id)
        .join(Organization, Offer.organization_id == Organization.id)
        .group_by(Organization.kind)
    )
    rows = session.execute(query).all()
    # local public entities are the demand side: shown only when one was matched as an ally
    kinds = [v.value for v in OrgKind if v != OrgKind.LOCAL_PUBLIC]
    if any(str(getattr(kind, "value", kind)) == OrgKind.LOCAL_PUBLIC for kind, *_ in rows):
        kinds.append(OrgKind.LOCAL_PUBLIC.value)
    return _rates(rows, kinds)


def month_starts(now: datetime, timezone: str, months: int = MONTHS) -> list[datetime]:
    """The first instants (UTC-aware) of the last `months` agency months, oldest first, and the
    start of the next month after them (so `months + 1` bounds)."""
    zone = ZoneInfo(timezone)
    today = clock.local(now, timezone).date()
    first = date(today.year, today.month, 1)
    bounds = []
    for back in range(months - 1, -2, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        bounds.append(_utc(datetime(year, month + 1, 1, tzinfo=zone)))
    return bounds


def month_key(start: datetime, timezone: str) -> str:
    """The "YYYY-MM" of the agency month that starts at `start`."""
    return clock.local(start, timezone).strftime("%Y-%m")


def per_month(session: Session, now: datetime, timezone: str, months: int = MONTHS) -> list[Rate]:
    """The last `months` months of the agency (the current one last), by `decided_at`, zeros
    included; keys are "YYYY-MM"."""
    bounds = month_starts(now, timezone, months)
    whens = [(Match.decided_at >= bounds[i], i) for i in range(months - 1, 0, -1)]
    index = sa.case(*whens, else_=0).label("month")
    query = _decided(sa.select(index, *_aggregates()), bounds[0], bounds[-1]).group_by(index)
    keys = [month_key(b, timezone) for b in bounds[:-1]]
    rows = [(keys[int(i)], *rest) for i, *rest in session.execute(query).all()]
    return _rates(rows, keys)


def chart(session: Session, name: str, period: str, now: datetime, timezone: str) -> list[Rate]:
    """The rows of the chart `name` (one of CHARTS) for `period`; the monthly chart always
    covers the last twelve months."""
    if name == "month":
        return per_month(session, now, timezone)
    start = since(period, now)
    if name == "band":
        return per_band(session, start)
    if name == "line":
        return per_line(session, start)
    if name == "kind":
        return per_kind(session, start)
    raise KeyError(name)


def report(session: Session, period: str | None, now: datetime, timezone: str) -> Report:
    """Every chart of the page, and the total, for `period` (checked: Invalid if unknown)."""
    period = check_period(period)
    start = since(period, now)
    charts = {name: chart(session, name, period, now, timezone) for name in CHARTS}
    return Report(period=period, since=start, total=summed(charts["band"]), charts=charts)


def _runs() -> sa.Select:
    # the saved model can be megabytes: never read it to show a run
    return sa.select(RankerRun).options(defer(RankerRun.model), joinedload(RankerRun.requested_by))


def model_in_use(session: Session) -> RankerRun | None:
    """The run whose model is in use (ranker_runs.adopted, newest; None: the default weighted
    mean, no learned ranker), without its saved model."""
    return session.scalar(
        ranker_runs.adopted().options(defer(RankerRun.model), joinedload(RankerRun.requested_by))
    )


def history(session: Session, limit: int = DEFAULT_HISTORY) -> list[RankerRun]:
    """The newest `limit` runs, newest first, whatever their state."""
    return list(
        session.scalars(
            _runs().order_by(RankerRun.created_at.desc(), RankerRun.id.desc()).limit(limit)
        )
    )


def run_count(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count(RankerRun.id))) or 0)


def leaned_on(run: RankerRun, top: int = 6) -> list[tuple[str, float]]:
    """What the run's model leaned on most: (feature, importance), largest first."""
    values = [
        (str(name), float(value))
        for name, value in (run.importance or {}).items()
        if isinstance(value, int | float)
    ]
    return sorted(values, key=lambda pair: (-pair[1], pair[0]))[:top]
