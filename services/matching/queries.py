"""Reading matches: an item's ranked matches, best first."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from models import Match, Offer, Project
from services.pagination import Page


def matches_of(
    session: Session,
    *,
    offer_id: int | None = None,
    project_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
    include_withdrawn: bool = False,
) -> Page:
    """Return one page of an offer's or a project's matches, best score first."""
    query = sa.select(Match)
    if offer_id is not None:
        query = query.where(Match.offer_id == offer_id)
    if project_id is not None:
        query = query.where(Match.project_id == project_id)
    if status:
        query = query.where(Match.status == status)
    elif not include_withdrawn:
        query = query.where(Match.status != "withdrawn")
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(
            joinedload(Match.project).joinedload(Project.organization),
            joinedload(Match.offer).joinedload(Offer.organization),
        )
        .order_by(Match.score.desc(), Match.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(items=list(rows.unique()), total=total, page=page, per_page=per_page)
