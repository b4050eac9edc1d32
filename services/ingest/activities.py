"""What the feeds' activity records give an ally: how many it has, and "active here"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ActivityFunder, AllyActivity, OrgMapping
from models.enums import MappingState
from services.db import json_list_has

DEFAULT_ACTIVE_HERE = 50


@dataclass(frozen=True)
class ActiveHere:
    """One activity of an ally in the agency's country, as the ally's page shows it."""

    id: int
    title: str
    first_year: int | None
    last_year: int | None
    amount: Decimal | None
    currency: str | None
    sector: str | None
    status: str | None
    link: str | None
    iati_identifier: str


def _of_ally(organization_id: int) -> sa.Select:
    return (
        sa.select(AllyActivity)
        .join(ActivityFunder, ActivityFunder.activity_id == AllyActivity.id)
        .join(OrgMapping, OrgMapping.ref == ActivityFunder.ref)
        .where(OrgMapping.organization_id == organization_id)
        .where(OrgMapping.state == MappingState.CONFIRMED)
    )


def count(session: Session, organization_id: int) -> int:
    """How many activity records the feeds hold for the ally."""
    inner = _of_ally(organization_id).with_only_columns(AllyActivity.id).distinct().subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0


def _year(day: date | None) -> int | None:
    return day.year if day else None


def _sector(sectors: list[dict]) -> str | None:
    for sector in sectors or ():
        if sector.get("name") or sector.get("code"):
            return sector.get("name") or sector.get("code")
    return None


def active_here(
    session: Session, organization_id: int, country: str, limit: int = DEFAULT_ACTIVE_HERE
) -> list[ActiveHere]:
    """The ally's activities with `country` among their recipients, newest first."""
    query = (
        _of_ally(organization_id)
        .where(json_list_has(AllyActivity.recipient_countries, country.upper()))
        .order_by(AllyActivity.start.desc().nulls_last(), AllyActivity.id.desc())
        .limit(limit)
    )
    out, seen = [], set()
    for a in session.scalars(query):
        if a.id in seen:
            continue
        seen.add(a.id)
        out.append(
            ActiveHere(
                a.id,
                a.title,
                _year(a.start),
                _year(a.end),
                a.amount,
                a.currency,
                _sector(a.sectors),
                a.status,
                a.link,
                a.iati_identifier,
            )
        )
    return out
