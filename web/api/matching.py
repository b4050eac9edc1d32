"""Matches of an item, and background jobs (rebuild progress, failures)."""

from __future__ import annotations

from flask import request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models import Offer
from models.enums import JobStatus, MatchStatus
from services import catalog, jobs
from services.errors import NotFound
from services.matching import queries, rebuild
from web import schemas
from web.api.auth import current_user, require_staff
from web.api.blueprint import bp
from web.db import db_session


class MatchQuery(Schema):
    offer_id = schemas.id_field(strict=False)
    project_id = schemas.id_field(strict=False)
    status = fields.String(validate=validate.OneOf([s.value for s in MatchStatus]))
    page = schemas.page_field()
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
    decided_at = schemas.UtcDateTime(allow_none=True)
    matcher_version = fields.String()
    updated_at = schemas.UtcDateTime()


class PartnerMatchOut(MatchOut):
    """What a partner sees of its own offer's matches: no staff notes (decision_reason)."""

    class Meta:
        exclude = ("decision_reason",)


MatchPage = schemas.page_schema(MatchOut, "MatchPage")


class JobOut(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    done = fields.Integer()
    total = fields.Integer()
    progress = fields.Method(
        "_progress", metadata={"type": "number", "nullable": True, "description": "done / total"}
    )
    detail = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = schemas.UtcDateTime()
    started_at = schemas.UtcDateTime(allow_none=True)
    finished_at = schemas.UtcDateTime(allow_none=True)

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
        if not offer.belongs_to(user.organization_id):
            raise NotFound(f"offer {args['offer_id']} does not exist")
    result = queries.matches_of(session, **args)
    return {
        "items": (MatchOut if user.is_staff else PartnerMatchOut)(many=True).dump(result.items),
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@bp.get("/jobs/<uuid:job_id>")  # a UUID, so /jobs/rebuild is never read as a job id
def get_job(job_id):
    require_staff()
    return JobOut().dump(jobs.get_job(db_session(), str(job_id)))


@bp.get("/jobs")
def list_jobs():
    require_staff()
    args = JobQuery().load(request.args.to_dict())
    return {"items": JobOut(many=True).dump(jobs.list_jobs(db_session(), args.get("status")))}


@bp.post("/jobs/rebuild")
def start_rebuild():
    require_staff()
    job = rebuild.request_rebuild(db_session())
    return JobOut().dump(job), 202, {"Location": url_for("api.get_job", job_id=job.id)}


class JobQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in JobStatus]))


class JobList(Schema):
    items = fields.List(fields.Nested(JobOut))


def _doc_errors(*codes: int) -> dict:
    """The error responses an operation documents (the common ones, plus `codes`)."""
    ref = {"$ref": "#/components/responses/Error"}
    return {str(c): ref for c in sorted({400, 401, 413, 422, 429, *codes})}


def _json(description: str, schema) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# The document's entries for these routes (web/api/openapi.py adds them).
OPENAPI_PATHS = {
    "/matches": {
        "get": {
            "tags": ["matches"],
            "summary": "An offer's or a project's matches, best first",
            "description": "Give offer_id or project_id. Partners may ask only for their own "
            "organisation's offers, and do not see staff's decision notes.",
            "parameters": [{"in": "query", "schema": MatchQuery}],
            "responses": {"200": _json("A page of matches", MatchPage), **_doc_errors(403, 404)},
        }
    },
    "/jobs": {
        "get": {
            "tags": ["jobs"],
            "summary": "Recent background jobs",
            "parameters": [{"in": "query", "schema": JobQuery}],
            "responses": {"200": _json("Jobs, newest first", JobList), **_doc_errors(403)},
        }
    },
    "/jobs/{job_id}": {
        "get": {
            "tags": ["jobs"],
            "summary": "A job's status and progress (done / total)",
            "parameters": [
                {
                    "in": "path",
                    "name": "job_id",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            ],
            "responses": {"200": _json("The job", JobOut), **_doc_errors(403, 404)},
        }
    },
    "/jobs/rebuild": {
        "post": {
            "tags": ["jobs"],
            "summary": "Refit the matcher and rescore everything",
            "responses": {"202": _json("The queued job", JobOut), **_doc_errors(403, 409)},
        }
    },
}
