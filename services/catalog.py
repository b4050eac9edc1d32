"""Create, read, update, delete and list organisations, offers and projects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Match, Offer, Organization, Project
from services import outbox
from services.db import committing, escape_like, fetch, json_list_has
from services.errors import Conflict, Invalid
from services.matching.queue import queue_scoring
from services.pagination import Page
from services.rules import offer_rule_errors, project_rule_errors

Model = type[Organization] | type[Offer] | type[Project]

RULES: dict[type, Callable[[Mapping], dict[str, list[str]]]] = {
    Offer: offer_rule_errors,
    Project: project_rule_errors,
}
NAMES = {Organization: "organisation", Offer: "offer", Project: "project"}
SORTABLE = {
    Organization: ("id", "name", "created_at"),
    Offer: ("id", "title", "deadline", "created_at", "updated_at"),
    Project: ("id", "title", "created_at", "updated_at", "budget"),
}


@dataclass
class Filters:
    """What a list asks for; fields that do not apply to a model are ignored."""

    q: str | None = None
    line: str | None = None
    modality: str | None = None
    status: str | None = None
    kind: str | None = None
    side: str | None = None
    organization_id: int | None = None
    partner_of: int | None = None  # a partner's organisation: only what its partners may see
    deadline_from: date | None = None
    deadline_to: date | None = None
    sort: str = "id"


def _attributes(obj) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in sa.inspect(type(obj)).column_attrs}


def _check_rules(model: type, values: Mapping) -> None:
    rules = RULES.get(model)
    errors = rules(values) if rules else {}
    if errors:
        raise Invalid("some fields break the rules of a " + NAMES[model], errors)


def _check_organization(session: Session, data: Mapping) -> None:
    org_id = data.get("organization_id")
    if org_id is not None and session.get(Organization, org_id) is None:
        raise Invalid("unknown organisation", {"organization_id": [f"No organisation {org_id}."]})


def get(session: Session, model: Model, item_id: int):
    """Return the row `item_id` of `model`, or raise NotFound."""
    return fetch(session, model, item_id, NAMES[model])


def create(session: Session, model: Model, data: Mapping):
    """Store a new row from validated field values; return it."""
    _check_rules(model, data)
    _check_organization(session, data)
    obj = model(**data)
    with committing(session):
        session.add(obj)
        if model is not Organization:
            queue_scoring(session, obj)
    outbox.dispatch(session)
    return obj


def apply_update(session: Session, obj, data: Mapping) -> None:
    """Within the caller's transaction, change the given fields of `obj` (rules checked on the
    merged values) and queue its scoring; the caller commits, then dispatches the outbox."""
    model = type(obj)
    _check_rules(model, {**_attributes(obj), **data})
    _check_organization(session, data)
    for key, value in data.items():
        setattr(obj, key, value)
    if model is not Organization:
        queue_scoring(session, obj)


def update(session: Session, obj, data: Mapping):
    """Change the given fields of `obj`, checking the rules on the merged values."""
    with committing(session):
        apply_update(session, obj, data)
    outbox.dispatch(session)
    return obj


def delete(session: Session, obj) -> None:
    """Delete `obj`; an organisation still holding offers or projects is a Conflict."""
    if isinstance(obj, Organization):
        for child in (Offer, Project):
            held = session.scalar(
                sa.select(sa.func.count()).select_from(child).where(child.organization_id == obj.id)
            )
            if held:
                raise Conflict(
                    f"the organisation still has {held} {NAMES[child]}(s); "
                    "delete or move them first"
                )
    if isinstance(obj, Offer | Project):
        key = Match.offer_id if isinstance(obj, Offer) else Match.project_id
        decided = session.scalar(
            sa.select(sa.func.count())
            .select_from(Match)
            .where(key == obj.id, Match.status.in_(["accepted"]))
        )
        if decided:
            raise Conflict(
                f"the {NAMES[type(obj)]} has accepted matches (alliances); "
                "close it instead of deleting it"
            )
    with committing(session):
        session.delete(obj)


def build_query(model: Model, filters: Filters) -> sa.Select:
    """Return the SELECT for `filters` over `model`, in a stable order."""
    query = sa.select(model)
    needs_org = filters.kind and model is not Organization
    if needs_org:
        query = query.join(Organization, model.organization_id == Organization.id)
    if filters.q:
        pattern = f"%{escape_like(filters.q)}%"
        text_cols = (model.name,) if model is Organization else (model.title, model.description)
        query = query.where(sa.or_(*(c.ilike(pattern, escape="\\") for c in text_cols)))
    if filters.kind:
        query = query.where(Organization.kind == filters.kind)
    if model is Organization:
        if filters.side:
            query = query.where(Organization.side == filters.side)
    else:
        if filters.line:
            query = query.where(json_list_has(model.lines, filters.line))
        if filters.modality:
            query = query.where(json_list_has(model.modalities, filters.modality))
        if filters.status:
            query = query.where(model.status == filters.status)
        if filters.organization_id is not None:
            query = query.where(model.organization_id == filters.organization_id)
        if filters.partner_of is not None:
            visible = (
                Offer.visible_to(filters.partner_of)
                if model is Offer
                else model.organization_id == filters.partner_of
            )
            query = query.where(visible)
    if model is Offer:
        if filters.deadline_from:
            query = query.where(Offer.deadline >= filters.deadline_from)
        if filters.deadline_to:
            query = query.where(Offer.deadline <= filters.deadline_to)
    return query.order_by(*_order(model, filters.sort))


def _order(model: Model, sort: str) -> list:
    name = sort.lstrip("-")
    if name not in SORTABLE[model]:
        allowed = ", ".join(SORTABLE[model])
        raise Invalid("cannot sort by that field", {"sort": [f"Sort by one of: {allowed}."]})
    column = getattr(model, name)
    first = column.desc() if sort.startswith("-") else column.asc()
    # NULLs last on every backend, and the id as the final tie-break, keep pages stable.
    return [column.is_(None), first, model.id.asc()]


def list_page(session: Session, model: Model, filters: Filters, page: int, per_page: int) -> Page:
    """Return one page of `model` rows matching `filters`, with the total count."""
    query = build_query(model, filters)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=list(items), total=total or 0, page=page, per_page=per_page)
