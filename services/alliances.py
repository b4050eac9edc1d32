"""Alliances after acceptance: the board by stage, and audited edits of stage, amount and dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from models import Alliance, Match
from models.enums import AllianceStage, Currency
from services import audit
from services.db import committing
from services.errors import Invalid, NotFound

EDITABLE = ("stage", "amount", "currency", "usd_rate", "started_on", "formalised_on", "ended_on")
MAX_AMOUNT = Decimal("1e17")
ENTITY = "alliance"
# Stages from which the alliance is over: reaching one without an end date sets it to today.
FINISHED = (AllianceStage.CLOSED, AllianceStage.DROPPED)
# Stages that imply a signed agreement: reaching one without a formalisation date sets today.
FORMAL = (AllianceStage.FORMALISED, AllianceStage.IN_EXECUTION, AllianceStage.CLOSED)


def get(session: Session, alliance_id: int) -> Alliance:
    alliance = session.scalar(
        sa.select(Alliance)
        .where(Alliance.id == alliance_id)
        .options(
            selectinload(Alliance.match).selectinload(Match.project),
            selectinload(Alliance.match).selectinload(Match.offer),
        )
    )
    if alliance is None:
        raise NotFound(f"alliance {alliance_id} does not exist")
    return alliance


def board(session: Session, since_year: int | None = None) -> dict[str, list[Alliance]]:
    """Return the alliances per stage (every stage present), newest start first."""
    query = (
        sa.select(Alliance)
        .options(
            selectinload(Alliance.match).selectinload(Match.project),
            selectinload(Alliance.match).selectinload(Match.offer),
        )
        .order_by(Alliance.started_on.desc(), Alliance.id.desc())
    )
    if since_year:
        query = query.where(Alliance.started_on >= date(since_year, 1, 1))
    columns: dict[str, list[Alliance]] = {stage.value: [] for stage in AllianceStage}
    for alliance in session.scalars(query):
        columns[AllianceStage(alliance.stage).value].append(alliance)
    return columns


def _decimal(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        number = Decimal(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except InvalidOperation:
        errors[name] = ["Give a number."]
        return None
    if number is None:
        errors[name] = ["This field is required."]
    elif not number.is_finite():
        errors[name] = ["Give a number."]
    return number


def clean(alliance: Alliance, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise the changed fields against the alliance; raise Invalid with fields."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise Invalid("these fields cannot be edited", {k: ["Not editable."] for k in unknown})
    if "stage" in data:
        try:
            values["stage"] = AllianceStage(data["stage"])
        except ValueError:
            errors["stage"] = ["Unknown stage."]
    if "amount" in data:
        amount = _decimal(data["amount"], "amount", errors)
        if amount is not None and not 0 <= amount < MAX_AMOUNT:
            errors["amount"] = ["Give an amount of zero or more."]
        values["amount"] = amount
    if "usd_rate" in data:
        rate = _decimal(data["usd_rate"], "usd_rate", errors)
        if rate is not None and rate <= 0:
            errors["usd_rate"] = ["The rate must be more than zero."]
        values["usd_rate"] = rate
    if "currency" in data:
        if data["currency"] not in {c.value for c in Currency}:
            errors["currency"] = ["Use COP, USD or EUR."]
        values["currency"] = data["currency"]
    for name in ("started_on", "formalised_on", "ended_on"):
        if name in data:
            value = data[name]
            if value is not None and not isinstance(value, date):
                errors[name] = ["Give a date."]
            values[name] = value
    if values.get("started_on", alliance.started_on) is None and "started_on" in data:
        errors["started_on"] = ["The start date is required."]
    if errors:
        raise Invalid("some fields are not valid", errors)
    return values


def update(
    session: Session,
    alliance: Alliance,
    user_id: int,
    data: Mapping[str, Any],
    *,
    today: date,
) -> Alliance:
    """Change the alliance's stage, amount, currency, rate or dates; audit what changed.

    `today` is the agency's day (services.clock.agency_today): a stage that implies a signature
    or an end, reached without that date, gets today.
    """
    values = clean(alliance, data)
    stage = values.get("stage", alliance.stage)
    if stage in FORMAL and values.get("formalised_on", alliance.formalised_on) is None:
        values["formalised_on"] = max(today, values.get("started_on", alliance.started_on))
    if stage in FINISHED and values.get("ended_on", alliance.ended_on) is None:
        values["ended_on"] = max(today, values.get("started_on", alliance.started_on))
    started = values.get("started_on", alliance.started_on)
    errors = {}
    for name in ("formalised_on", "ended_on"):
        moment = values.get(name, getattr(alliance, name))
        if moment is not None and moment < started:
            errors[name] = ["This date cannot be before the start date."]
    if errors:
        raise Invalid("the dates are out of order", errors)
    with committing(session):
        audit.audited_update(session, alliance, user_id, ENTITY, "update", values)
    return alliance
