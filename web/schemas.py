"""marshmallow schemas: what the API and the importers accept (`*In`) and return (`*Out`)."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from models import Offer, Organization, Project
from models.enums import (
    SDGS,
    Currency,
    Language,
    Line,
    Modality,
    OfferSource,
    OfferStatus,
    OrgKind,
    ProjectStage,
    ProjectStatus,
    Side,
)
from services.catalog import SORTABLE
from services.rules import offer_rule_errors, project_rule_errors

MAX_TITLE = 300
MAX_DESCRIPTION = 20_000
MAX_AMOUNT = 10**15
OFFER_LANGUAGES = ("es", "en", "fr", "pt", "de", "it")
MAX_ID = 2**63 - 1  # what a database id (BIGINT, SQLite INTEGER) can hold
MAX_PAGE = 1_000_000


def id_field(strict: bool = True, **kwargs) -> fields.Integer:
    """A row id: 1..2^63-1 (a longer number is a 422, never an overflow in the driver)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def page_field() -> fields.Integer:
    return fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1."},
    )


class UtcDateTime(fields.DateTime):
    """An RFC 3339 timestamp with its offset: stored naive values are UTC and say so."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def _values(enum) -> list[str]:
    return [m.value for m in enum]


def _codes(enum, required: bool = False, **kwargs) -> fields.List:
    """A list of distinct codes from `enum` (empty when left out, unless `required`)."""
    if not required:
        kwargs["load_default"] = list
    return fields.List(
        fields.String(validate=validate.OneOf(_values(enum))), required=required, **kwargs
    )


def _sdgs() -> fields.List:
    return fields.List(
        fields.Integer(strict=True, validate=validate.OneOf(SDGS)), load_default=list
    )


def _amount_in_range(value) -> None:
    if value < 0:
        raise ValidationError("Must be zero or more.")
    if value > MAX_AMOUNT:
        raise ValidationError(f"Must be at most {MAX_AMOUNT:,}.")


def _amount(**kwargs) -> fields.Decimal:
    # A plain validator, not Range: apispec would print Decimal bounds as strings.
    return fields.Decimal(
        allow_none=True,
        places=2,
        allow_nan=False,
        validate=_amount_in_range,
        metadata={"minimum": 0, "maximum": MAX_AMOUNT},
        **kwargs,
    )


class _Strict(Schema):
    """Rejects unknown fields; strips surrounding spaces from strings."""

    @pre_load
    def _strip(self, data, **kwargs):
        if not isinstance(data, dict):
            raise ValidationError("Send a JSON object.", "_schema")
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    def _rule_check(self, data, rules) -> None:
        if self.partial:  # cross-field rules are checked on the merged row by the service
            return
        errors = rules(data)
        if errors:
            raise ValidationError(errors)


class OrganizationIn(_Strict):
    ref = fields.String(allow_none=True, validate=validate.Length(1, 64))
    name = fields.String(required=True, validate=validate.Length(2, 200))
    kind = fields.String(required=True, validate=validate.OneOf(_values(OrgKind)))
    side = fields.String(required=True, validate=validate.OneOf(_values(Side)))
    country = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Z]{2}$", error="Use a two-letter ISO 3166 country code, e.g. CO."
        ),
    )
    website = fields.Url(allow_none=True, validate=validate.Length(max=300))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class OfferIn(_Strict):
    ref = fields.String(allow_none=True, validate=validate.Length(1, 64))
    organization_id = id_field(required=True)
    title = fields.String(required=True, validate=validate.Length(3, MAX_TITLE))
    description = fields.String(required=True, validate=validate.Length(10, MAX_DESCRIPTION))
    # Required: a default [] would skip the length check (validators never see defaults).
    modalities = _codes(Modality, required=True, validate=validate.Length(min=1))
    lines = _codes(Line)
    sdgs = _sdgs()
    amount_min = _amount()
    amount_max = _amount()
    currency = fields.String(allow_none=True, validate=validate.OneOf(_values(Currency)))
    eligible_kinds = _codes(OrgKind)
    eligible_countries = fields.List(
        fields.String(
            validate=validate.Regexp(r"^[A-Z]{2}$", error="Use two-letter ISO 3166 country codes.")
        ),
        load_default=list,
    )
    opens_on = fields.Date(allow_none=True)
    deadline = fields.Date(allow_none=True)
    language = fields.String(required=True, validate=validate.OneOf(OFFER_LANGUAGES))
    status = fields.String(validate=validate.OneOf(_values(OfferStatus)))
    # Every source, so that an export (feed offers included) imports back without loss.
    source = fields.String(validate=validate.OneOf(_values(OfferSource)))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    contact_private = fields.Boolean(
        metadata={
            "description": "true (the default): the contact email is never shown on the public "
            "opportunities page"
        }
    )

    @post_load
    def _rules(self, data, **kwargs):
        self._rule_check(data, offer_rule_errors)
        for key in ("modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries"):
            if key in data:
                data[key] = sorted(set(data[key]), key=data[key].index)
        return data


class ProjectIn(_Strict):
    ref = fields.String(allow_none=True, validate=validate.Length(1, 64))
    organization_id = id_field(required=True)
    title = fields.String(required=True, validate=validate.Length(3, MAX_TITLE))
    description = fields.String(required=True, validate=validate.Length(10, MAX_DESCRIPTION))
    language = fields.String(required=True, validate=validate.OneOf(_values(Language)))
    lines = _codes(Line)
    sdgs = _sdgs()
    modalities = _codes(Modality)
    budget = _amount()
    cofinancing = _amount()
    currency = fields.String(required=True, validate=validate.OneOf(_values(Currency)))
    territory = fields.String(allow_none=True, validate=validate.Length(max=200))
    stage = fields.String(validate=validate.OneOf(_values(ProjectStage)))
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    status = fields.String(validate=validate.OneOf(_values(ProjectStatus)))

    @post_load
    def _rules(self, data, **kwargs):
        if data.get("cofinancing") is None and ("cofinancing" in data or not self.partial):
            data["cofinancing"] = 0
        self._rule_check(data, project_rule_errors)
        for key in ("modalities", "lines", "sdgs"):
            if key in data:
                data[key] = sorted(set(data[key]), key=data[key].index)
        return data


class OrganizationBrief(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    country = fields.String()


class OrganizationOut(OrganizationBrief):
    ref = fields.String(allow_none=True)
    side = fields.String()
    website = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class _ItemOut(Schema):
    id = fields.Integer()
    ref = fields.String(allow_none=True)
    organization_id = fields.Integer()
    organization = fields.Nested(OrganizationBrief)
    title = fields.String()
    description = fields.String()
    language = fields.String()
    lines = fields.List(fields.String())
    sdgs = fields.List(fields.Integer())
    modalities = fields.List(fields.String())
    currency = fields.String(allow_none=True)
    status = fields.String()
    scoring = fields.String(
        attribute="scoring_state",
        metadata={
            "description": "not_scored, waiting (saved, not yet sent for scoring: e.g. the broker "
            "is down), queued, scored or failed"
        },
    )
    contact_email = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class OfferOut(_ItemOut):
    contact_private = fields.Boolean()
    published_at = UtcDateTime(allow_none=True)
    amount_min = fields.Float(allow_none=True)
    amount_max = fields.Float(allow_none=True)
    eligible_kinds = fields.List(fields.String())
    eligible_countries = fields.List(fields.String())
    opens_on = fields.Date(allow_none=True)
    deadline = fields.Date(allow_none=True)
    source = fields.String()
    source_id = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    feed_id = fields.Integer(allow_none=True)
    closed_reason = fields.String(allow_none=True)
    duplicate_of_id = fields.Integer(allow_none=True)
    links = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        dump_only=True,
        metadata={
            "description": "On creation only: `self`, and `status`, the signed page where the "
            "partner follows the offer's review"
        },
    )


class ProjectOut(_ItemOut):
    budget = fields.Float(allow_none=True)
    cofinancing = fields.Float()
    remaining_need = fields.Float(allow_none=True)
    territory = fields.String(allow_none=True)
    stage = fields.String()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    contact_name = fields.String(allow_none=True)


def _sort_field(names: tuple[str, ...]) -> fields.String:
    choices = [*names, *(f"-{n}" for n in names)]
    return fields.String(
        load_default="id",
        validate=validate.OneOf(choices),
        metadata={"description": "Field to sort by; prefix with '-' for descending."},
    )


class _ListQuery(Schema):
    """Query-string parameters every list endpoint takes."""

    page = page_field()
    per_page = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Items per page (the server's maximum applies)."},
    )
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Free text over title and description (name for organisations)."},
    )
    kind = fields.String(
        validate=validate.OneOf(_values(OrgKind)), metadata={"description": "Organisation kind."}
    )


class OrganizationQuery(_ListQuery):
    side = fields.String(validate=validate.OneOf(_values(Side)))
    sort = _sort_field(SORTABLE[Organization])


class _ItemQuery(_ListQuery):
    line = fields.String(validate=validate.OneOf(_values(Line)))
    modality = fields.String(validate=validate.OneOf(_values(Modality)))
    organization_id = id_field(strict=False, metadata={"description": "Only this organisation's."})


class OfferQuery(_ItemQuery):
    status = fields.String(validate=validate.OneOf(_values(OfferStatus)))
    deadline_from = fields.Date(metadata={"description": "Deadline on or after (YYYY-MM-DD)."})
    deadline_to = fields.Date(metadata={"description": "Deadline on or before (YYYY-MM-DD)."})
    sort = _sort_field(SORTABLE[Offer])


class ProjectQuery(_ItemQuery):
    status = fields.String(validate=validate.OneOf(_values(ProjectStatus)))
    sort = _sort_field(SORTABLE[Project])


class ErrorOut(Schema):
    status = fields.Integer()
    code = fields.String()
    message = fields.String()
    fields = fields.Dict(keys=fields.String())


class ErrorEnvelope(Schema):
    error = fields.Nested(ErrorOut)


class PageOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """Return a schema class for a page of `item_schema` items."""
    return type(name, (PageOut,), {"items": fields.List(fields.Nested(item_schema))})


OrganizationPage = page_schema(OrganizationOut, "OrganizationPage")
OfferPage = page_schema(OfferOut, "OfferPage")
ProjectPage = page_schema(ProjectOut, "ProjectPage")
