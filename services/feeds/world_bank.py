"""World Bank projects (search API v2) as activity records.

The API (`https://search.worldbank.org/api/v2/projects`) answers
`{"rows", "os", "total", "projects": {"P123456": {...}}}`; exports of its
records (the shared file: a JSON array of records, MongoDB style) are read too. Field shapes
differ between vintages: `countrycode` and `countryname` are strings in the 2013 records and
lists in current answers, amounts numbers or strings such as "105,000,000". Each project
becomes the Bank's activity record with the identifier the Bank uses in IATI (`44000-P...`),
so a project read here and the same project from an IATI file are one record.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import _input
from ._input import DEFAULT_MAX_JSON_BYTES, Source
from ._values import clean, country, decimal, iso_date, positive
from .errors import SourceError, WrongKind
from .records import (
    ActivityStatus,
    FeedActivity,
    Narrative,
    OrgRef,
    OrgRole,
    ParseResult,
    Sector,
    Skip,
)

KIND = "world_bank"
IATI_PREFIX = "44000-"  # the World Bank's IATI organisation id
PROJECT_ID = re.compile(r"P\d{6}")
LINK = "https://projects.worldbank.org/en/projects-operations/project-detail/{}"
REPORTER = OrgRef("44000", (Narrative("World Bank", "en"),), "40")
IBRD = OrgRef(
    "44001",
    (Narrative("International Bank for Reconstruction and Development", "en"),),
    "40",
    OrgRole.FUNDING,
)
IDA = OrgRef(
    "44002", (Narrative("International Development Association", "en"),), "40", OrgRole.FUNDING
)
BANK = OrgRef("44000", (Narrative("World Bank", "en"),), "40", OrgRole.FUNDING)
# The Bank's own country codes where they differ from ISO 3166-1 (its region codes, "1W"
# World, "3A" Africa, ..., are not countries and are dropped)
BANK_COUNTRY_CODES = {"RY": "YE", "TP": "TL", "YF": "RS", "ZR": "CD", "GZ": "PS", "KV": "XK"}
STATUSES = {
    "active": ActivityStatus.IMPLEMENTATION,
    "closed": ActivityStatus.CLOSED,
    "pipeline": ActivityStatus.PIPELINE,
    "dropped": ActivityStatus.CANCELLED,
}


def parse(source: Source, *, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> ParseResult:
    """Read a projects API answer or an array of project records.

    Every project is returned with its status (closed and dropped ones too, so that a stored
    record can be updated); "active here" lists use `status == implementation`.
    """
    with _input.open_source(source, max_bytes) as stream:
        doc = _input.load_json(stream, "a World Bank projects file")
    if isinstance(doc, dict) and "projects" in doc:
        projects = doc["projects"]
        records = list(projects.values()) if isinstance(projects, dict) else projects
        total = doc.get("total")
        result = ParseResult(KIND, "World Bank projects API answer", total_available=_int(total))
    elif isinstance(doc, dict) and ("error" in doc or "errors" in doc):
        raise SourceError(
            f"the World Bank API answered with an error: {doc.get('error') or doc.get('errors')}"
        )
    elif (
        isinstance(doc, list)
        and doc
        and all(isinstance(r, dict) for r in doc[:10])
        and any("project_name" in r or "id" in r for r in doc[:10])
    ):
        records = doc
        result = ParseResult(KIND, "World Bank project records")
    elif isinstance(doc, list) and not doc:
        return ParseResult(KIND, "World Bank project records")
    else:
        raise WrongKind("not a World Bank projects answer: " + _input.describe_keys(doc))
    if not isinstance(records, list):
        raise WrongKind("not a World Bank projects answer: `projects` is not a list or map")
    seen: set[str] = set()
    for record in records:
        item = _project(record)
        if isinstance(item, FeedActivity) and item.source_id in seen:
            item = Skip(item.source_id, "the same project appears again")
        if not isinstance(item, Skip):
            seen.add(item.source_id)
        result.add(item)
    return result


def _int(value: object) -> int | None:
    return _input.to_int(str(value).replace(",", ""))


def _text(value: object) -> str:
    """Return a field's text: strings, one-element lists, and {"cdata": ...} objects."""
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("cdata") or value.get("#cdata-section") or value.get("text")
    return clean(value) if isinstance(value, str) else ""


def _project(record: object) -> FeedActivity | Skip:
    if not isinstance(record, dict):
        return Skip(None, "a project record that is not an object")
    project_id = _text(record.get("id")) or _text(record.get("projectid"))
    if not PROJECT_ID.fullmatch(project_id):
        return Skip(project_id or None, f"not a World Bank project id: {project_id!r}")
    title = _text(record.get("project_name"))
    if not title:
        return Skip(project_id, "a project without a name")
    countries: dict[str, None] = {}
    codes = record.get("countrycode")
    for code in codes if isinstance(codes, list) else [codes]:
        if found := country(code):
            countries[BANK_COUNTRY_CODES.get(found, found)] = None
    status_text = _text(record.get("status")) or _text(record.get("projectstatusdisplay"))
    abstract = _text(record.get("project_abstract"))
    amount = positive(decimal(record.get("totalcommamt"))) or positive(
        decimal(record.get("totalamt"))
    )
    return FeedActivity(
        source=KIND,
        source_id=project_id,
        iati_identifier=IATI_PREFIX + project_id,
        titles=(Narrative(title, "en"),),
        descriptions=(Narrative(abstract, "en", "description"),) if abstract else (),
        reporting_org=REPORTER,
        participating_orgs=_funders(record),
        recipient_countries=tuple(countries),
        sectors=_sectors(record),
        start=iso_date(_text(record.get("boardapprovaldate"))),
        end=iso_date(_text(record.get("closingdate"))),
        amount=amount,
        currency="USD" if amount is not None else None,
        amount_basis="total commitment" if amount is not None else None,
        status=STATUSES.get(status_text.lower()),
        language="en",
        link=LINK.format(project_id),
        last_updated=_text(record.get("p2a_updated_date")) or None,
    )


def _funders(record: dict) -> tuple[OrgRef, ...]:
    """Return IBRD and/or IDA by their commitments; the Bank itself for grants and trust funds."""
    out = []
    if positive(decimal(record.get("ibrdcommamt"))):
        out.append(IBRD)
    if positive(decimal(record.get("idacommamt"))):
        out.append(IDA)
    return tuple(out) or (BANK,)


def _sectors(record: dict) -> tuple[Sector, ...]:
    """Return the Bank's own sector codes (vocabulary "wb"), with the percentages it gives."""
    percent: dict[str, Decimal] = {}
    for n in range(1, 6):
        entry = record.get(f"sector{n}")
        if isinstance(entry, dict) and entry.get("Name"):
            value = decimal(entry.get("Percent"))
            if value is not None:
                percent[str(entry["Name"])] = value
    out: dict[str, Sector] = {}
    for entry in record.get("sector_namecode") or []:
        if isinstance(entry, dict) and entry.get("code") and entry["code"] not in out:
            name = str(entry.get("name") or "") or None
            out[entry["code"]] = Sector(str(entry["code"]), "wb", percent.get(name or ""), name)
    return tuple(out.values())
