"""Feeds in the API: configure them (administrators), read their runs, run one now, decide
organisation mappings, and an ally's activities in the agency's country."""

from __future__ import annotations

from flask import request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from models import Organization
from models.enums import FeedKind, MappingState, Role
from services.errors import Forbidden, NotFound
from services.ingest import activities, admin, orgs, runs
from web.api.auth import require_staff
from web.api.blueprint import bp
from web.api.catalog import json_body
from web.api.matching import _doc_errors
from web.db import db_session, runtime
from web.schemas import UtcDateTime


class FeedIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in FeedKind]))
    url = fields.String(required=True, validate=validate.Length(min=8, max=1000))
    query = fields.Dict(
        load_default=dict,
        metadata={
            "description": 'Sent with the request: {"method", "params", "json", '
            '"multipart", "key_param", "key_header", "details_url"}.'
        },
    )
    api_key_env = fields.String(
        allow_none=True,
        validate=validate.Length(max=80),
        metadata={
            "description": "The NAME of the environment variable holding the key "
            "(COOPMATCH_FEED_KEY_...), never the key."
        },
    )
    interval_minutes = fields.Integer(load_default=1440, validate=validate.Range(5, 525600))
    countries = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")), load_default=list
    )
    keywords = fields.List(fields.String(validate=validate.Length(max=100)), load_default=list)
    programmes = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    publish_at_once = fields.Boolean(load_default=False)
    enabled = fields.Boolean(load_default=True)


class FeedRunOut(Schema):
    id = fields.Integer()
    feed_id = fields.Integer(allow_none=True)
    kind = fields.String()
    trigger = fields.String()
    state = fields.String()
    document = fields.String(allow_none=True)
    new = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    closed = fields.Integer()
    skipped = fields.Integer()
    failed = fields.Integer()
    first_error = fields.String(allow_none=True)
    started_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)


class FeedOut(FeedIn):
    id = fields.Integer()
    next_run_at = UtcDateTime(allow_none=True)
    running = fields.Method("_running")
    # Filled by the views (each feed's newest run), not read from the feed.
    last_run = fields.Nested(FeedRunOut, allow_none=True, dump_only=True)

    def _running(self, feed) -> bool:
        return feed.running_since is not None


class MappingOut(Schema):
    id = fields.Integer()
    ref = fields.String()
    name = fields.String(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    state = fields.String()


class MappingDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "reject"]))
    organization_id = fields.Integer(allow_none=True)


class ActiveHereOut(Schema):
    id = fields.Integer()
    iati_identifier = fields.String()
    title = fields.String()
    first_year = fields.Integer(allow_none=True)
    last_year = fields.Integer(allow_none=True)
    amount = fields.Float(allow_none=True)
    currency = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    link = fields.String(allow_none=True)


def _require_admin() -> None:
    if require_staff().role != Role.ADMIN:
        raise Forbidden("configuring feeds needs an administrator's token")


def _out(feed, last: dict | None = None) -> dict:
    last = admin.last_runs(db_session()) if last is None else last
    body = FeedOut().dump(feed)
    run = last.get(feed.id)
    body["last_run"] = FeedRunOut().dump(run) if run else None
    return body


@bp.get("/feeds")
def list_feeds():
    require_staff()
    last = admin.last_runs(db_session())
    return {"items": [_out(feed, last) for feed in admin.all_feeds(db_session())]}


@bp.post("/feeds")
def create_feed():
    _require_admin()
    feed = admin.create(db_session(), FeedIn().load(json_body()))
    return _out(feed), 201, {"Location": url_for("api.get_feed", feed_id=feed.id)}


@bp.get("/feeds/<int:feed_id>")
def get_feed(feed_id: int):
    require_staff()
    return _out(admin.get(db_session(), feed_id))


@bp.patch("/feeds/<int:feed_id>")
def update_feed(feed_id: int):
    _require_admin()
    feed = admin.get(db_session(), feed_id)
    return _out(admin.update(db_session(), feed, FeedIn(partial=True).load(json_body())))


@bp.delete("/feeds/<int:feed_id>")
def delete_feed(feed_id: int):
    _require_admin()
    admin.delete(db_session(), admin.get(db_session(), feed_id))
    return "", 204


@bp.get("/feeds/<int:feed_id>/runs")
def feed_runs(feed_id: int):
    require_staff()
    feed = admin.get(db_session(), feed_id)
    return {"items": FeedRunOut(many=True).dump(admin.runs(db_session(), feed.id))}


@bp.post("/feeds/<int:feed_id>/run")
def run_feed_now(feed_id: int):
    require_staff()
    feed = admin.get(db_session(), feed_id)
    sent = runs.request_run(db_session(), runtime().send, feed.id)
    return {"queued": sent, "runs": url_for("api.feed_runs", feed_id=feed.id)}, 202


@bp.get("/feeds/mappings")
def list_mappings():
    require_staff()
    state = request.args.get("state")
    if state is not None and state not in {s.value for s in MappingState}:
        raise ValidationError({"state": ["Must be one of: suggested, confirmed, rejected."]})
    found = orgs.pending(db_session()) if state == "suggested" else orgs.all_mappings(db_session())
    if state is not None:
        found = [m for m in found if m.state == state]
    return {"items": MappingOut(many=True).dump(found)}


@bp.post("/feeds/mappings/<int:mapping_id>")
def decide_mapping(mapping_id: int):
    require_staff()
    data = MappingDecisionIn().load(json_body())
    found = orgs.decide(
        db_session(), mapping_id, data["decision"] == "confirm", data.get("organization_id")
    )
    return MappingOut().dump(found)


@bp.get("/organizations/<int:organization_id>/active-here")
def active_here(organization_id: int):
    require_staff()
    if db_session().get(Organization, organization_id) is None:
        raise NotFound(f"organisation {organization_id} does not exist")
    country = runtime().settings.agency_country
    found = activities.active_here(db_session(), organization_id, country)
    return {"country": country, "items": ActiveHereOut(many=True).dump(found)}


_ID = [{"in": "path", "name": "feed_id", "required": True, "schema": {"type": "integer"}}]


def _json(schema: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


# Nested schemas first: apispec names them when a schema that nests them is registered.
OPENAPI_SCHEMAS = {
    "FeedRunOut": FeedRunOut,
    "FeedIn": FeedIn,
    "FeedOut": FeedOut,
    "MappingOut": MappingOut,
    "MappingDecisionIn": MappingDecisionIn,
    "ActiveHereOut": ActiveHereOut,
}
OPENAPI_PATHS = {
    "/feeds": {
        "get": {
            "tags": ["feeds"],
            "summary": "Configured feeds with their last run",
            "responses": {"200": {"description": "Feeds"}, **_doc_errors(403)},
        },
        "post": {
            "tags": ["feeds"],
            "summary": "Configure a feed (administrators)",
            "requestBody": {"required": True, **_json("FeedIn")},
            "responses": {
                "201": {"description": "The feed", **_json("FeedOut")},
                **_doc_errors(403),
            },
        },
    },
    "/feeds/{feed_id}": {
        "get": {
            "tags": ["feeds"],
            "summary": "A feed",
            "parameters": _ID,
            "responses": {
                "200": {"description": "The feed", **_json("FeedOut")},
                **_doc_errors(403, 404),
            },
        },
        "patch": {
            "tags": ["feeds"],
            "summary": "Change a feed (administrators)",
            "parameters": _ID,
            "requestBody": {"required": True, **_json("FeedIn")},
            "responses": {
                "200": {"description": "The feed", **_json("FeedOut")},
                **_doc_errors(403, 404),
            },
        },
        "delete": {
            "tags": ["feeds"],
            "summary": "Remove a feed and its runs; its offers stay (administrators)",
            "parameters": _ID,
            "responses": {"204": {"description": "Removed"}, **_doc_errors(403, 404)},
        },
    },
    "/feeds/{feed_id}/runs": {
        "get": {
            "tags": ["feeds"],
            "summary": "A feed's runs, newest first: new, updated, unchanged, closed, skipped, "
            "failed, duration and first error",
            "parameters": _ID,
            "responses": {"200": {"description": "Runs"}, **_doc_errors(403, 404)},
        }
    },
    "/feeds/{feed_id}/run": {
        "post": {
            "tags": ["feeds"],
            "summary": "Run a feed now (a worker task)",
            "parameters": _ID,
            "responses": {"202": {"description": "Queued"}, **_doc_errors(403, 404)},
        }
    },
    "/feeds/mappings": {
        "get": {
            "tags": ["feeds"],
            "summary": "Organisation references and the allies they name",
            "parameters": [
                {
                    "in": "query",
                    "name": "state",
                    "required": False,
                    "schema": {"type": "string", "enum": [s.value for s in MappingState]},
                }
            ],
            "responses": {"200": {"description": "Mappings"}, **_doc_errors(403)},
        }
    },
    "/feeds/mappings/{mapping_id}": {
        "post": {
            "tags": ["feeds"],
            "summary": "Confirm (with the ally) or reject a suggested mapping",
            "parameters": [
                {
                    "in": "path",
                    "name": "mapping_id",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "requestBody": {"required": True, **_json("MappingDecisionIn")},
            "responses": {
                "200": {"description": "The mapping", **_json("MappingOut")},
                **_doc_errors(403, 404),
            },
        }
    },
    "/organizations/{organization_id}/active-here": {
        "get": {
            "tags": ["feeds"],
            "summary": "The ally's activities in the agency's country, newest first",
            "parameters": [
                {
                    "in": "path",
                    "name": "organization_id",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {"200": {"description": "Activities"}, **_doc_errors(403, 404)},
        }
    },
}
