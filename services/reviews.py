"""Reviewing suggested matches: the queue, decisions (shortlist, accept, reject) and undo.

Every decision is audited with the match's status before and after. Accepting starts an
alliance in the same transaction. Undo restores the previous status of the last decision not
yet undone; undoing an accept deletes its alliance only while nobody has worked on it (no
amount, still negotiating, never edited). Once an alliance carries real information, undo is
refused and the alliance is dropped on the board instead, so no recorded money disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, selectinload

from models import Alliance, AuditEvent, Match, Offer, Organization, Project
from models.enums import AllianceStage, Line, MatchStatus, Modality, OrgKind
from services import audit, clock, reasons
from services.db import committing, json_list_has
from services.errors import Conflict, Invalid, NotFound

REJECT_REASONS = (
    "not_eligible",
    "thematic_mismatch",
    "amount_mismatch",
    "deadline_too_close",
    "duplicate",
    "other",
)
DEFAULT_PAGE_SIZE = 50
OPEN = "open"  # the queue's default: proposed and shortlisted
QUEUE_STATUSES = (OPEN, *(s.value for s in MatchStatus), "all")
OPEN_STATUSES = (MatchStatus.PROPOSED, MatchStatus.SHORTLISTED)
DECISIONS = {
    "shortlist": MatchStatus.SHORTLISTED,
    "accept": MatchStatus.ACCEPTED,
    "reject": MatchStatus.REJECTED,
}
# Which status each decision may start from; everything else is done with undo or on the board.
ALLOWED_FROM = {
    "shortlist": (MatchStatus.PROPOSED,),
    "accept": OPEN_STATUSES,
    "reject": OPEN_STATUSES,
}
FILTER_NAMES = ("line", "modality", "kind", "min_score", "deadline_days", "status")
MATCH_FIELDS = ("status", "reviewer_id", "decision_reason", "decided_at")
ENTITY = "match"


@dataclass
class QueueFilters:
    """What the review queue shows; every field is optional and they combine with AND."""

    line: str | None = None
    modality: str | None = None
    kind: str | None = None
    min_score: float | None = None
    deadline_days: int | None = None
    status: str = OPEN
    after: tuple[float, int] | None = None  # keyset cursor: the (score, id) of the last row seen

    def check(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.line and self.line not in {v.value for v in Line}:
            errors["line"] = ["Unknown thematic line."]
        if self.modality and self.modality not in {v.value for v in Modality}:
            errors["modality"] = ["Unknown modality."]
        if self.kind and self.kind not in {v.value for v in OrgKind}:
            errors["kind"] = ["Unknown kind of ally."]
        if self.min_score is not None and not 0 <= self.min_score <= 1:
            errors["min_score"] = ["Give a score between 0 and 1."]
        if self.deadline_days is not None and not 0 <= self.deadline_days <= 3650:
            errors["deadline_days"] = ["Give a number of days between 0 and 3650."]
        if self.status not in QUEUE_STATUSES:
            errors["status"] = ["Unknown status."]
        if errors:
            raise Invalid("some filters are not valid", errors)

    def params(self) -> dict[str, str]:
        """The filters that are set, as the queue's query-string values (not the cursor)."""
        out = {}
        for name in FILTER_NAMES:
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = repr(value) if isinstance(value, float) else str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> QueueFilters:
        """Read and check the queue's query-string values; Invalid names each bad one."""
        values: dict[str, object] = {}
        errors: dict[str, list[str]] = {}
        readers = {"min_score": float, "deadline_days": int}
        for name in FILTER_NAMES:
            raw = str(params.get(name) or "").strip()
            if not raw:
                continue
            try:
                values[name] = readers.get(name, str)(raw)
            except ValueError:
                errors[name] = ["Give a number."]
        filters = cls(**values)
        try:
            filters.check()
        except Invalid as exc:
            errors = {**exc.fields, **errors}
        if errors:
            raise Invalid("some filters are not valid", errors)
        return filters


@dataclass
class QueueCount:
    value: int
    exact: bool  # False: the planner's estimate, for filters holding more than the cap


DEFAULT_EXACT_COUNT_CAP = 1_000


@dataclass
class QueuePage:
    items: list[Match]
    next_after: tuple[float, int] | None
    extra: dict = field(default_factory=dict)
    count: QueueCount | None = None  # how many the filters hold, when asked for


def _offer_conditions(filters: QueueFilters, today: date) -> list:
    conditions = []
    if filters.modality:
        conditions.append(json_list_has(Offer.modalities, filters.modality))
    if filters.deadline_days is not None:
        conditions.append(
            Offer.deadline.between(today, today + timedelta(days=filters.deadline_days))
        )
    if filters.kind:
        conditions.append(
            Offer.organization_id.in_(
                sa.select(Organization.id).where(Organization.kind == filters.kind)
            )
        )
    return conditions


def _among(column, ids: list[int], dialect: str):
    # One array parameter on PostgreSQL (no limit on how many ids); an IN list elsewhere.
    if dialect == "postgresql":
        return column == sa.any_(sa.cast(sa.bindparam(None, ids), postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


def queue_query(
    filters: QueueFilters,
    *,
    project_ids: list[int] | None = None,
    offer_ids: list[int] | None = None,
    dialect: str = "postgresql",
) -> sa.Select:
    """Return the SELECT of (id, score) of the queue's matches, best score first, then newest.

    Filters on projects, offers and allies arrive as the ids they select (see `queue_select`):
    with a real list the planner estimates well and walks ix_matches_score_id backwards,
    stopping after one page; a semi-join on JSON text would be misestimated and sort everything.
    """
    query = sa.select(Match.id, Match.score)
    if filters.status == OPEN:
        query = query.where(Match.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        query = query.where(Match.status == filters.status)
    if filters.min_score is not None:
        query = query.where(Match.score >= filters.min_score)
    if project_ids is not None:
        query = query.where(_among(Match.project_id, project_ids, dialect))
    if offer_ids is not None:
        query = query.where(_among(Match.offer_id, offer_ids, dialect))
    if filters.after is not None:
        query = query.where(_past(filters.after))
    return query.order_by(Match.score.desc(), Match.id.desc())


def _past(after: tuple[float, int]):
    """SQL: the match comes after the keyset cursor (score, id) in the queue's order."""
    score, last_id = after
    return sa.or_(Match.score < score, sa.and_(Match.score == score, Match.id < last_id))


def queue_select(session: Session, filters: QueueFilters, today: date) -> sa.Select | None:
    """Resolve the project and offer filters to ids and return the queue's SELECT.

    Returns None when a filter selects no project or no offer (the page is empty).
    """
    project_ids = offer_ids = None
    if filters.line:
        project_ids = list(
            session.scalars(sa.select(Project.id).where(json_list_has(Project.lines, filters.line)))
        )
    conditions = _offer_conditions(filters, today)
    if conditions:
        offer_ids = list(session.scalars(sa.select(Offer.id).where(*conditions)))
    if project_ids == [] or offer_ids == []:
        return None
    return queue_query(
        filters,
        project_ids=project_ids,
        offer_ids=offer_ids,
        dialect=session.get_bind().dialect.name,
    )


def queue_page(
    session: Session,
    filters: QueueFilters,
    today: date,
    per_page: int = DEFAULT_PAGE_SIZE,
    *,
    count: bool = False,
) -> QueuePage:
    """Return one page of the queue and the cursor of the next (None on the last page).

    No full COUNT over the table: one more row than the page tells whether a next page
    exists. With `count`, the page also says how many matches the filters hold (`count_of`).
    """
    filters.check()
    # The whole filter's SELECT (ids resolved once), then the page's cursor on top of it.
    whole = queue_select(session, replace(filters, after=None), today)
    query = whole
    if whole is not None and filters.after is not None:
        query = whole.where(_past(filters.after))
    rows = session.execute(query.limit(per_page + 1)).all() if query is not None else []
    more = len(rows) > per_page
    rows = rows[:per_page]
    items = load_matches(session, [r.id for r in rows])
    next_after = (float(rows[-1].score), int(rows[-1].id)) if more and rows else None
    page = QueuePage(items=items, next_after=next_after)
    if count:
        page.count = count_of(session, whole) if whole is not None else QueueCount(0, True)
    return page


def count_of(session: Session, query: sa.Select, cap: int = DEFAULT_EXACT_COUNT_CAP) -> QueueCount:
    """How many rows `query` (a queue SELECT) holds.

    Counting stops after `cap` + 1 rows, so a large queue costs one short index walk; beyond
    the cap, PostgreSQL's planner estimates the whole (EXPLAIN: nothing is read). SQLite, the
    embedded default, always counts exactly.
    """
    query = query.order_by(None)
    dialect = session.get_bind().dialect
    limited = query.limit(cap + 1) if dialect.name == "postgresql" else query
    counted = session.scalar(sa.select(sa.func.count()).select_from(limited.subquery())) or 0
    if counted <= cap or dialect.name != "postgresql":
        return QueueCount(counted, True)
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    plan = (
        session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
        .scalar()
    )
    return QueueCount(max(int(plan[0]["Plan"]["Plan Rows"]), counted), False)


def load_matches(session: Session, ids: list[int]) -> list[Match]:
    """Return the matches `ids` in that order, with their project, offer and allies loaded."""
    if not ids:
        return []
    found = {
        m.id: m
        for m in session.scalars(
            sa.select(Match)
            .where(Match.id.in_(ids))
            .options(
                selectinload(Match.project).defer(Project.description),
                selectinload(Match.offer).defer(Offer.description),
            )
        )
    }
    return [found[i] for i in ids if i in found]


def ranked(
    session: Session,
    *,
    project_id: int | None = None,
    offer_id: int | None = None,
    limit: int = 100,
) -> list[Match]:
    """Return an item's matches best first (withdrawn ones last, historical ones included)."""
    query = sa.select(Match.id)
    if project_id is not None:
        query = query.where(Match.project_id == project_id)
    if offer_id is not None:
        query = query.where(Match.offer_id == offer_id)
    withdrawn = sa.case((Match.status == MatchStatus.WITHDRAWN, 1), else_=0)
    ids = list(
        session.scalars(query.order_by(withdrawn, Match.score.desc(), Match.id.desc()).limit(limit))
    )
    return load_matches(session, ids)


# -- decisions -------------------------------------------------------------------------------


def _locked_match(session: Session, match_id: int) -> Match:
    match = session.scalar(sa.select(Match).where(Match.id == match_id).with_for_update())
    if match is None:
        raise NotFound(f"match {match_id} does not exist")
    return match


def reason_text(reason: str | None, note: str | None) -> str | None:
    """Return the stored decision reason: the code, then the person's words after ': '."""
    note = (note or "").strip()
    if not reason:
        return note or None
    return f"{reason}: {note}" if note else reason


def split_reason(text: str | None) -> tuple[str | None, str]:
    """Return (reason code or None, free text) from a stored decision reason."""
    if not text:
        return None, ""
    code, sep, note = text.partition(": ")
    if code in REJECT_REASONS:
        return code, note if sep else ""
    return None, text


def _check_reason(action: str, reason: str | None, note: str | None) -> None:
    reasons.check_reason(reason, note, REJECT_REASONS, required=action == "reject")


def _apply(
    session: Session,
    match: Match,
    user_id: int,
    action: str,
    reason: str | None,
    note: str | None,
    usd_rates: Mapping[str, float],
    today: date | None,
    now: datetime,
) -> AuditEvent:
    if action not in DECISIONS:
        raise Invalid(f"unknown decision {action!r}", {"action": ["Unknown decision."]})
    status = MatchStatus(match.status)
    if status not in ALLOWED_FROM[action]:
        raise Conflict(
            f"match {match.id} is {status.value}: it cannot be "
            f"{DECISIONS[action].value} from there",
            {"status": [status.value]},
        )
    before = audit.snapshot(match, MATCH_FIELDS)
    match.status = DECISIONS[action]
    match.reviewer_id = user_id
    match.decision_reason = reason_text(reason, note)
    match.decided_at = now
    after = audit.snapshot(match, MATCH_FIELDS)
    after.update(reason=reason, note=(note or "").strip() or None)
    if action == "accept":
        if today is None:
            raise ValueError("accepting a match needs the agency's today (services.clock)")
        alliance = _start_alliance(session, match, usd_rates, today)
        after["alliance_id"] = alliance.id
    return audit.record(session, user_id, ENTITY, match.id, action, before, after)


def _start_alliance(
    session: Session, match: Match, usd_rates: Mapping[str, float], today: date
) -> Alliance:
    if session.scalar(sa.select(Alliance.id).where(Alliance.match_id == match.id)):
        raise Conflict(f"match {match.id} already has an alliance")
    offer = session.get(Offer, match.offer_id)
    currency = (offer.currency if offer is not None else None) or "USD"
    rate = usd_rates.get(currency)
    if not rate or rate <= 0:
        raise Invalid(
            f"no USD rate for {currency}",
            {"currency": [f"Set a USD rate for {currency} in COOPMATCH_USD_RATES."]},
        )
    alliance = Alliance(
        match_id=match.id,
        stage=AllianceStage.NEGOTIATING,
        amount=0,
        currency=currency,
        usd_rate=rate,
        started_on=today,
        owner_id=match.owner_id,  # whoever followed the match follows its alliance
    )
    session.add(alliance)
    session.flush()
    audit.record(
        session,
        match.reviewer_id,
        "alliance",
        alliance.id,
        "create",
        None,
        audit.snapshot(
            alliance, ("match_id", "stage", "amount", "currency", "usd_rate", "started_on")
        ),
    )
    return alliance


def decide(
    session: Session,
    match_id: int,
    user_id: int,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    usd_rates: Mapping[str, float] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Match:
    """Shortlist, accept or reject a match as `user_id`; audited, one transaction.

    Accepting starts an alliance on `today`, the agency's day (services.clock.agency_today).
    """
    _check_reason(action, reason, note)
    now = now or clock.now()
    with committing(session):
        match = _locked_match(session, match_id)
        _apply(
            session,
            match,
            user_id,
            action,
            reason,
            note,
            usd_rates or {"USD": 1.0},
            today,
            now,
        )
    return match


@dataclass
class BulkResult:
    done: list[int]
    skipped: dict[int, str]


def bulk_reject(
    session: Session,
    match_ids: Iterable[int],
    user_id: int,
    reason: str,
    note: str | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Reject every open match among `match_ids` with one reason; report the ones skipped."""
    _check_reason("reject", reason, note)
    ids = sorted({int(i) for i in match_ids})
    if not ids:
        raise Invalid("no match selected", {"match_ids": ["Select at least one match."]})
    now = now or clock.now()
    result = BulkResult(done=[], skipped={})
    with committing(session):
        matches = {
            m.id: m
            for m in session.scalars(
                sa.select(Match).where(Match.id.in_(ids)).order_by(Match.id).with_for_update()
            )
        }
        for match_id in ids:
            match = matches.get(match_id)
            if match is None:
                result.skipped[match_id] = "not_found"
            elif match.status not in ALLOWED_FROM["reject"]:
                result.skipped[match_id] = MatchStatus(match.status).value
            else:
                _apply(session, match, user_id, "reject", reason, note, {}, None, now)
                result.done.append(match_id)
    return result


# -- undo ------------------------------------------------------------------------------------


def last_undoable(session: Session, match_id: int) -> AuditEvent | None:
    """Return the latest decision on the match that has not been undone yet, if any."""
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == ENTITY, AuditEvent.entity_id == match_id)
        .order_by(AuditEvent.id.desc())
    )
    undone: set[int] = set()
    for event in events:
        if event.action == "undo":
            undone.add(int((event.after or {}).get("undoes", 0)))
        elif event.action in DECISIONS and event.id not in undone:
            return event
    return None


def undoable_ids(session: Session, match_ids: list[int]) -> set[int]:
    """Return which of `match_ids` have a decision that undo can revert (one query)."""
    if not match_ids:
        return set()
    rows = session.execute(
        sa.select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.id, AuditEvent.after)
        .where(
            AuditEvent.entity_type == ENTITY,
            AuditEvent.entity_id.in_(match_ids),
            AuditEvent.action.in_([*DECISIONS, "undo"]),
        )
        .order_by(AuditEvent.entity_id, AuditEvent.id.desc())
    ).all()
    result: set[int] = set()
    undone: dict[int, set[int]] = {}
    for entity_id, action, event_id, after in rows:
        if entity_id in result:
            continue
        seen = undone.setdefault(entity_id, set())
        if action == "undo":
            seen.add(int((after or {}).get("undoes", 0)))
        elif event_id not in seen:
            result.add(entity_id)
    return result


def undo(session: Session, match_id: int, user_id: int) -> Match:
    """Revert the last decision on the match not yet undone; audited as an 'undo' event."""
    with committing(session):
        match = _locked_match(session, match_id)
        event = last_undoable(session, match_id)
        if event is None:
            raise Conflict(f"match {match_id} has no decision to undo")
        if MatchStatus(match.status).value != (event.after or {}).get("status"):
            raise Conflict(f"match {match_id} changed since that decision; nothing was undone")
        if event.action == "accept":
            _remove_untouched_alliance(session, match, user_id)
        current = audit.snapshot(match, MATCH_FIELDS)
        previous = event.before or {}
        match.status = MatchStatus(previous.get("status", MatchStatus.PROPOSED.value))
        match.reviewer_id = previous.get("reviewer_id")
        match.decision_reason = previous.get("decision_reason")
        decided = previous.get("decided_at")
        match.decided_at = datetime.fromisoformat(decided) if decided else None
        audit.record(
            session,
            user_id,
            ENTITY,
            match.id,
            "undo",
            current,
            {**audit.snapshot(match, MATCH_FIELDS), "undoes": event.id},
        )
    return match


def _remove_untouched_alliance(session: Session, match: Match, user_id: int) -> None:
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    if alliance is None:
        return
    edited = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.entity_type == "alliance",
            AuditEvent.entity_id == alliance.id,
            AuditEvent.action != "create",
        )
    )
    if edited or alliance.amount or alliance.stage != AllianceStage.NEGOTIATING:
        raise Conflict(
            "the alliance of this match has been worked on: drop it on the alliance "
            "board instead of undoing the acceptance",
            {"alliance_id": [str(alliance.id)]},
        )
    before = audit.snapshot(
        alliance, ("match_id", "stage", "amount", "currency", "usd_rate", "started_on")
    )
    session.delete(alliance)
    audit.record(session, user_id, "alliance", alliance.id, "delete", before, None)
