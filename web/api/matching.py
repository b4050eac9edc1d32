"""Matches of an item, and background jobs (rebuild progress, failures)."""

from __future__ import annotations

from flask import request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models import Offer
from models.enums import MatchStatus
from services import catalog, jobs
from services.errors import NotFound
from services.matching import queries, rebuild
from web.api.auth import current_user, require_staff
from web.api.blueprint import bp
from web.db import db_session


class MatchQuery(Schema):
    offer_id = fields.Integer()
    project_id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in MatchStatus]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _one_item(self, data, **kwargs):
        if ("offer_id" in data) == ("project_id" in data):
            raise ValidationError("Give offer_id or project_id (one of them).", "offer_id")


class ItemBrief(Schema):
    id = fields.Integer()
    title = fields.String()
    organization = fields.String(attribute="organization.name")


class MatchOut(Schema):
    id = fields.Integer()
    project = fields.Nested(ItemBrief)
    offer = fields.Nested(ItemBrief)
    score = fields.Float()
    components = fields.Dict(keys=fields.String(), values=fields.Float())
    explanation = fields.Raw(allow_none=True)
    status = fields.String()
    decision_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    matcher_version = fields.String()
    updated_at = fields.DateTime()


class JobOut(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    done = fields.Integer()
    total = fields.Integer()
    progress = fields.Method("_progress")
    detail = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)

    def _progress(self, job) -> float | None:
        return round(job.done / job.total, 4) if job.total else None


@bp.get("/matches")
def list_matches():
    user = current_user()
    args = MatchQuery().load(request.args.to_dict())
    session = db_session()
    if not user.is_staff:
        if "offer_id" not in args:
            require_staff()
        offer = catalog.get(session, Offer, args["offer_id"])
        if offer.organization_id != user.organization_id:
            raise NotFound(f"offer {args['offer_id']} does not exist")
    result = queries.matches_of(session, **args)
    return {
        "items": MatchOut(many=True).dump(result.items),
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    require_staff()
    return JobOut().dump(jobs.get_job(db_session(), job_id))


@bp.get("/jobs")
def list_jobs():
    require_staff()
    status = request.args.get("status") or None
    return {"items": JobOut(many=True).dump(jobs.list_jobs(db_session(), status))}


@bp.post("/jobs/rebuild")
def start_rebuild():
    require_staff()
    job = rebuild.request_rebuild(db_session())
    return JobOut().dump(job), 202, {"Location": url_for("api.get_job", job_id=job.id)}


_ERR = {"$ref": "#/components/responses/Error"}
# The document's entries for these routes (web/api/openapi.py adds them).
OPENAPI_PATHS = {
    "/matches": {
        "get": {
            "tags": ["matches"],
            "summary": "An offer's or a project's matches, best first",
            "parameters": [
                {"in": "query", "name": n, "schema": {"type": t}, "required": False}
                for n, t in (
                    ("offer_id", "integer"),
                    ("project_id", "integer"),
                    ("status", "string"),
                    ("page", "integer"),
                    ("per_page", "integer"),
                )
            ],
            "responses": {
                "200": {"description": "A page of matches"},
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
                "422": _ERR,
            },
        }
    },
    "/jobs": {
        "get": {
            "tags": ["jobs"],
            "summary": "Recent background jobs",
            "responses": {"200": {"description": "Jobs"}, "401": _ERR, "403": _ERR},
        }
    },
    "/jobs/{job_id}": {
        "get": {
            "tags": ["jobs"],
            "summary": "A job's status and progress (done / total)",
            "parameters": [
                {"in": "path", "name": "job_id", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "The job"}, "401": _ERR, "403": _ERR, "404": _ERR},
        }
    },
    "/jobs/rebuild": {
        "post": {
            "tags": ["jobs"],
            "summary": "Refit the matcher and rescore everything",
            "responses": {"202": {"description": "The queued job"}, "401": _ERR, "403": _ERR},
        }
    },
}
