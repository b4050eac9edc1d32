"""Owners of projects, matches and alliances: read and (re)assign, audited."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields

from services.db import fetch
from services.errors import NotFound
from services.work import owners
from web.api.auth import require_staff
from web.api.blueprint import bp
from web.db import db_session

PLURALS = {"projects": "project", "matches": "match", "alliances": "alliance"}


class OwnerIn(Schema):
    owner_id = fields.Integer(required=True, allow_none=True)


class OwnerOut(Schema):
    kind = fields.String()
    id = fields.Integer()
    owner_id = fields.Integer(allow_none=True)
    owner_email = fields.String(allow_none=True)


def _out(kind: str, item) -> dict:
    owner = item.owner
    return OwnerOut().dump(
        {
            "kind": kind,
            "id": item.id,
            "owner_id": item.owner_id,
            "owner_email": owner.email if owner else None,
        }
    )


def _kind(plural: str) -> str:
    if plural not in PLURALS:
        raise NotFound(f"/{plural} has no owners")
    return PLURALS[plural]


@bp.get("/<plural>/<int:item_id>/owner")
def get_owner(plural: str, item_id: int):
    require_staff()
    kind = _kind(plural)
    return _out(kind, fetch(db_session(), owners.model_of(kind), item_id, kind))


@bp.put("/<plural>/<int:item_id>/owner")
def put_owner(plural: str, item_id: int):
    user = require_staff()
    kind = _kind(plural)
    data = OwnerIn().load(request.get_json(silent=True) or {})
    item = owners.assign(db_session(), kind, item_id, data["owner_id"], user.id)
    return _out(kind, item)


_ERR = {"$ref": "#/components/responses/Error"}
_PARAMS = [
    {
        "in": "path",
        "name": "plural",
        "required": True,
        "schema": {"type": "string", "enum": list(PLURALS)},
    },
    {"in": "path", "name": "item_id", "required": True, "schema": {"type": "integer"}},
]
_OWNER = {"application/json": {"schema": {"$ref": "#/components/schemas/Owner"}}}
OPENAPI_SCHEMAS = {"OwnerIn": OwnerIn, "Owner": OwnerOut}
OPENAPI_PATHS = {
    "/{plural}/{item_id}/owner": {
        "get": {
            "tags": ["owners"],
            "summary": "Who follows a project, a match or an alliance",
            "parameters": _PARAMS,
            "responses": {
                "200": {"description": "The owner", "content": _OWNER},
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
            },
        },
        "put": {
            "tags": ["owners"],
            "summary": "Assign or reassign the owner (null: nobody); audited",
            "parameters": _PARAMS,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/OwnerIn"}}
                },
            },
            "responses": {
                "200": {"description": "The new owner", "content": _OWNER},
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
                "422": _ERR,
            },
        },
    }
}
