"""Write the agency's alliances and projects as an IATI `iati-activities` 2.03 file.

The input is plain records (ExportActivity), so this module needs no database: the caller reads
alliances or projects and builds them. The agency is the reporting organisation (its IATI
organisation identifier from configuration) and the accountable participating organisation;
each ally is a funding participating organisation (role 1) and, with an amount, the provider of
a commitment transaction (type 2) in its currency. Stages become activity-status codes and the
agency's five thematic lines DAC 5-digit sectors (LINE_SECTORS, documented in docs/feeds.md).
The output validates against the IATI 2.03 schema and reads back through services.feeds.iati.
Reference: https://iatistandard.org/en/iati-standard/203/activity-standard/
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO

from lxml import etree

IATI_VERSION = "2.03"

# The agency's thematic lines (models.enums.Line) as DAC 5-digit purpose codes (IATI Sector
# vocabulary 1). Each line maps to the two codes closest to its remit in the brief:
LINE_SECTORS: dict[str, tuple[str, ...]] = {
    # rights of the most vulnerable, inclusion and equity
    "social_inclusion": ("16010", "15160"),  # Social Protection; Human rights
    # decent work, entrepreneurship, the productive network
    "economic_development": ("16020", "32130"),  # Employment creation; SME development
    # sustainable urban development, clean mobility, climate resilience
    "sustainable_territory": ("43030", "41010"),  # Urban development and management;
    # Environmental policy and administrative management
    # education, culture and sport
    "human_development": ("11110", "16061"),  # Education policy and admin. management;
    # Culture and recreation
    # democratic institutions, coexistence, peace processes, citizen security
    "governance_peace": ("15150", "15220"),  # Democratic participation and civil society;
    # Civilian peace-building, conflict prevention and resolution
}

# Alliance stages (models.enums.AllianceStage), project stages (ProjectStage) and project
# statuses on hold or closed (ProjectStatus) as IATI ActivityStatus codes.
STAGE_STATUS: dict[str, str] = {
    "negotiating": "1",  # Pipeline/identification
    "formalised": "2",  # Implementation: the agreement is signed
    "in_execution": "2",  # Implementation
    "closed": "4",  # Closed
    "dropped": "5",  # Cancelled
    "idea": "1",
    "formulation": "1",
    "ready": "1",
    "execution": "2",
    "on_hold": "6",  # Suspended
}

# Ally kinds (models.enums.OrgKind) as IATI OrganisationType codes.
KIND_ORG_TYPE: dict[str, str] = {
    "bilateral": "10",  # Government
    "multilateral": "40",  # Multilateral
    "foundation": "60",  # Foundation
    "city_network": "21",  # International NGO (city networks are international associations)
    "company": "70",  # Private Sector
    "university": "80",  # Academic, Training and Research
    "ngo": "21",  # International NGO
    "local_public": "11",  # Local Government
}

ROLE_FUNDING = "1"
ROLE_ACCOUNTABLE = "2"
TRANSACTION_COMMITMENT = "2"
DATE_PLANNED_START, DATE_ACTUAL_START, DATE_PLANNED_END, DATE_ACTUAL_END = "1", "2", "3", "4"
STARTED = {"2", "3", "4", "6"}
ENDED = {"4"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True, slots=True)
class ReportingOrg:
    """The agency: its IATI organisation identifier, name and OrganisationType code."""

    ref: str
    name: str
    type: str = "11"  # Local Government: a city's agency
    lang: str = "es"


@dataclass(frozen=True, slots=True)
class ExportFunder:
    """An ally funding the activity: its IATI identifier when known, name and OrgKind value."""

    name: str
    ref: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Commitment:
    """An amount an ally committed, in its own currency, on a date."""

    funder: ExportFunder
    amount: Decimal
    currency: str
    on: date


@dataclass(frozen=True, slots=True)
class ExportActivity:
    """One alliance or project to publish.

    `own_id` is the agency's stable id for it ("alliance-12"); the iati-identifier is the
    reporting organisation's identifier, a hyphen, and own_id. `stage` is an AllianceStage,
    ProjectStage or ProjectStatus value; `lines` are Line values, `sdgs` SDG numbers 1-17.
    """

    own_id: str
    title: str
    stage: str
    funders: tuple[ExportFunder, ...] = ()
    description: str | None = None
    lang: str = "es"
    lines: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    start: date | None = None
    end: date | None = None
    recipient_country: str = "CO"
    last_updated: datetime | None = None


def sector_shares(lines: Iterable[str]) -> list[tuple[str, int]]:
    """Return the DAC codes of the lines with integer percentages that add up to 100.

    Lines share 100 equally and each line's codes share its part; rounding remainders go to
    the largest fractions first (so three lines give 17+17+17+17+16+16).
    """
    codes: dict[str, Decimal] = {}
    known = [line for line in dict.fromkeys(lines) if line in LINE_SECTORS]
    for line in known:
        part = Decimal(100) / len(known) / len(LINE_SECTORS[line])
        for code in LINE_SECTORS[line]:
            codes[code] = codes.get(code, Decimal(0)) + part
    floors = {code: int(share) for code, share in codes.items()}
    left = 100 - sum(floors.values()) if codes else 0
    for code in sorted(codes, key=lambda c: (floors[c] - codes[c], c))[:left]:
        floors[code] += 1
    return list(floors.items())


def write_iati_activities(
    out: str | os.PathLike | BinaryIO,
    activities: Iterable[ExportActivity],
    reporting: ReportingOrg,
    *,
    generated: datetime | None = None,
) -> int:
    """Write an iati-activities 2.03 document to a path or binary stream; return the count.

    Streams activity by activity (lxml.etree.xmlfile), so any number fits in memory.
    Raises ValueError when there is nothing to export (the schema needs one activity).
    """
    generated = generated or datetime.now(UTC)
    items = iter(activities)
    first = next(items, None)
    if first is None:
        raise ValueError("there is nothing to export: an IATI file needs at least one activity")
    count = 0
    target = os.fspath(out) if isinstance(out, str | os.PathLike) else out
    with etree.xmlfile(target, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(
            "iati-activities", {"version": IATI_VERSION, "generated-datetime": _stamp(generated)}
        ):
            xf.write("\n")
            for item in itertools.chain([first], items):
                xf.write(_activity(item, reporting, generated), pretty_print=True)
                count += 1
    return count


def _stamp(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.replace(microsecond=0).isoformat()


def _narrative(parent: etree._Element, text: str, lang: str | None = None) -> None:
    el = etree.SubElement(parent, "narrative")
    el.text = text
    if lang:
        el.set(XML_LANG, lang)


def _org(tag: str, parent: etree._Element, name: str, ref: str | None, **attrs: str):
    el = etree.SubElement(parent, tag)
    if ref:
        el.set("ref", ref)
    for key, value in attrs.items():
        if value:
            el.set(key.replace("_", "-"), value)
    _narrative(el, name)
    return el


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _activity(item: ExportActivity, reporting: ReportingOrg, generated: datetime):
    status = STAGE_STATUS.get(item.stage)
    if status is None:
        raise ValueError(f"{item.own_id}: unknown stage {item.stage!r}")
    currency = item.commitments[0].currency if item.commitments else "USD"
    el = etree.Element(
        "iati-activity",
        {
            XML_LANG: item.lang,
            "default-currency": currency,
            "last-updated-datetime": _stamp(item.last_updated or generated),
            "hierarchy": "1",
        },
    )
    etree.SubElement(el, "iati-identifier").text = f"{reporting.ref}-{item.own_id}"
    _org("reporting-org", el, reporting.name, reporting.ref, type=reporting.type)
    _narrative(etree.SubElement(el, "title"), item.title)
    _narrative(etree.SubElement(el, "description", type="1"), item.description or item.title)

    funders = list(dict.fromkeys(item.funders + tuple(c.funder for c in item.commitments)))
    for funder in funders:
        _org(
            "participating-org",
            el,
            funder.name,
            funder.ref,
            role=ROLE_FUNDING,
            type=KIND_ORG_TYPE.get(funder.kind or "", ""),
        )
    _org(
        "participating-org",
        el,
        reporting.name,
        reporting.ref,
        role=ROLE_ACCOUNTABLE,
        type=reporting.type,
    )
    etree.SubElement(el, "activity-status", code=status)
    for kind, when in _dates(item, status, generated):
        etree.SubElement(el, "activity-date", {"type": kind, "iso-date": when.isoformat()})
    etree.SubElement(el, "recipient-country", code=item.recipient_country, percentage="100")
    for code, share in sector_shares(item.lines):
        etree.SubElement(el, "sector", vocabulary="1", code=code, percentage=str(share))
    for goal in dict.fromkeys(item.sdgs):
        if 1 <= goal <= 17:
            etree.SubElement(el, "tag", vocabulary="2", code=str(goal))  # UN SDG goals
    for c in item.commitments:
        tx = etree.SubElement(el, "transaction")
        etree.SubElement(tx, "transaction-type", code=TRANSACTION_COMMITMENT)
        etree.SubElement(tx, "transaction-date", {"iso-date": c.on.isoformat()})
        value = etree.SubElement(
            tx, "value", {"currency": c.currency, "value-date": c.on.isoformat()}
        )
        value.text = _money(c.amount)
        _org(
            "provider-org",
            tx,
            c.funder.name,
            c.funder.ref,
            type=KIND_ORG_TYPE.get(c.funder.kind or "", ""),
        )
        _org("receiver-org", tx, reporting.name, reporting.ref, type=reporting.type)
    return el


def _dates(item: ExportActivity, status: str, generated: datetime) -> list[tuple[str, date]]:
    """Return the activity dates: actual once started or ended, planned before (one at least)."""
    out = []
    start = item.start or min((c.on for c in item.commitments), default=None)
    if start is None:
        start = generated.date()
    out.append((DATE_ACTUAL_START if status in STARTED else DATE_PLANNED_START, start))
    if item.end:
        out.append((DATE_ACTUAL_END if status in ENDED else DATE_PLANNED_END, item.end))
    return out
