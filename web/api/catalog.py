"""CRUD and lists for organisations, offers and projects."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from marshmallow import Schema, ValidationError

from models import Offer, Organization, Project, User
from models.enums import OfferSource, OfferStatus
from services import catalog
from services.errors import Conflict, Invalid, NotFound
from web import input_guard, schemas
from web.api.auth import current_user, require_staff
from web.api.blueprint import bp
from web.db import db_session, runtime
from web.public.notify import status_url


@dataclass(frozen=True)
class Resource:
    name: str  # singular, used in endpoint names
    plural: str  # URL segment
    model: type
    schema_in: type[Schema]
    schema_out: type[Schema]
    query: type[Schema]  # the list's query-string parameters
    partner_scoped: bool  # partners see their own organisation's rows; else staff only


RESOURCES = (
    Resource(
        "organization",
        "organizations",
        Organization,
        schemas.OrganizationIn,
        schemas.OrganizationOut,
        schemas.OrganizationQuery,
        False,
    ),
    Resource("offer", "offers", Offer, schemas.OfferIn, schemas.OfferOut, schemas.OfferQuery, True),
    Resource(
        "project",
        "projects",
        Project,
        schemas.ProjectIn,
        schemas.ProjectOut,
        schemas.ProjectQuery,
        False,
    ),
)


def json_body() -> dict:
    """Return the request's JSON object, or raise a clear 400/422."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets: refused before any view sees them
        data = None
    if data is None:
        raise Invalid(
            "the body is not valid JSON: send a JSON object with 'Content-Type: application/json'",
            {"_body": ["Not valid JSON."]},
        )
    if not isinstance(data, dict):
        raise Invalid("send a JSON object", {"_body": ["Expected a JSON object."]})
    problem = input_guard.json_problem(data)
    if problem:
        raise Invalid(problem, {"_body": [problem[0].upper() + problem[1:] + "."]})
    return data


def _caller(resource: Resource) -> User:
    user = current_user()
    if not resource.partner_scoped:
        require_staff()
    return user


def _belongs(obj, user: User) -> bool:
    if isinstance(obj, Offer):
        return obj.belongs_to(user.organization_id)
    return obj.organization_id == user.organization_id


def _owned(resource: Resource, user: User, obj):
    # A partner asking for another organisation's row learns nothing, not even that it exists.
    if not user.is_staff and not _belongs(obj, user):
        raise NotFound(f"{resource.name} {obj.id} does not exist")
    return obj


_WITHDRAW = {"status", "organization_id"}


def _partner_fields(user: User, data: dict, obj: Offer | None = None) -> dict:
    """Partners write only their own organisation's offers, which staff then moderate: they
    change the content only while it waits for review (`submitted`), may only withdraw it
    after that, and never set its source."""
    if user.is_staff:
        return data
    if "source" in data:
        raise Invalid("partners cannot set the source", {"source": ["Set by CoopMatch."]})
    status = data.get("status")
    if status is not None and status not in (OfferStatus.SUBMITTED, OfferStatus.WITHDRAWN):
        raise Invalid(
            "partners cannot set this status", {"status": ["Only 'submitted' or 'withdrawn'."]}
        )
    data["organization_id"] = user.organization_id
    if obj is None:
        data["status"] = OfferStatus.SUBMITTED
        data["source"] = OfferSource.API
        return data
    if obj.status == OfferStatus.SUBMITTED:
        return data
    withdrawable = (OfferStatus.PUBLISHED, OfferStatus.WITHDRAWN)
    if status == OfferStatus.WITHDRAWN and obj.status in withdrawable and set(data) <= _WITHDRAW:
        return {"status": OfferStatus.WITHDRAWN}  # the one change left to a partner
    raise Conflict(
        f"this offer is {obj.status.value}: its content can no longer be changed through the "
        "API"
        + (
            '; you can withdraw it: PATCH {"status": "withdrawn"}'
            if obj.status == "published"
            else ""
        ),
        {"status": [f"The offer is {obj.status.value}."]},
    )


def _list_params(resource: Resource) -> tuple[catalog.Filters, int, int]:
    settings = runtime().settings
    args = resource.query().load(request.args.to_dict())
    page = args.pop("page")
    per_page = args.pop("per_page") or settings.per_page
    if per_page > settings.max_per_page:
        raise ValidationError({"per_page": [f"At most {settings.max_per_page}."]})
    return catalog.Filters(**args), page, per_page


def _register(resource: Resource) -> None:
    out_one, out_many = resource.schema_out(), resource.schema_out(many=True)
    item_url = f"/{resource.plural}/<int:item_id>"

    def list_items():
        user = _caller(resource)
        filters, page, per_page = _list_params(resource)
        if not user.is_staff:
            filters.partner_of = user.organization_id
        result = catalog.list_page(db_session(), resource.model, filters, page, per_page)
        return {
            "items": out_many.dump(result.items),
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        }

    def get_item(item_id: int):
        user = _caller(resource)
        obj = catalog.get(db_session(), resource.model, item_id)
        return out_one.dump(_owned(resource, user, obj))

    def create_item():
        user = _caller(resource)
        payload = json_body()
        if not user.is_staff:
            payload.setdefault("organization_id", user.organization_id)
        data = _partner_fields(user, resource.schema_in().load(payload))
        if resource.model is Offer and user.is_staff:
            data.setdefault("source", OfferSource.MANUAL)
        obj = catalog.create(db_session(), resource.model, data)
        location = url_for(f"api.get_{resource.name}", item_id=obj.id)
        body = out_one.dump(obj)
        if resource.model is Offer:  # the signed link a partner follows the offer with
            body["links"] = {"self": location, "status": status_url(obj)}
        return body, 201, {"Location": location}

    def update_item(item_id: int):
        user = _caller(resource)
        session = db_session()
        obj = _owned(resource, user, catalog.get(session, resource.model, item_id))
        partial = request.method == "PATCH"
        payload = json_body()
        if not user.is_staff and not partial:
            payload.setdefault("organization_id", user.organization_id)
        data = _partner_fields(user, resource.schema_in(partial=partial).load(payload), obj)
        return out_one.dump(catalog.update(session, obj, data))

    def delete_item(item_id: int):
        user = _caller(resource)
        session = db_session()
        obj = _owned(resource, user, catalog.get(session, resource.model, item_id))
        if not user.is_staff and obj.status != OfferStatus.SUBMITTED:
            raise Conflict(
                f"this offer is {obj.status.value}: partners delete only offers waiting for "
                'review; withdraw it instead: PATCH {"status": "withdrawn"}'
            )
        catalog.delete(session, obj)
        return "", 204

    prefix = f"/{resource.plural}"
    bp.add_url_rule(prefix, f"list_{resource.plural}", list_items, methods=["GET"])
    bp.add_url_rule(prefix, f"create_{resource.name}", create_item, methods=["POST"])
    bp.add_url_rule(item_url, f"get_{resource.name}", get_item, methods=["GET"])
    bp.add_url_rule(item_url, f"update_{resource.name}", update_item, methods=["PUT", "PATCH"])
    bp.add_url_rule(item_url, f"delete_{resource.name}", delete_item, methods=["DELETE"])


for _resource in RESOURCES:
    _register(_resource)
