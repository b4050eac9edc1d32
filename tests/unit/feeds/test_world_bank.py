"""The World Bank projects parser on the shared records and on the current API's shape."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from services.feeds import world_bank
from services.feeds.errors import MalformedFeed, WrongKind
from services.feeds.records import ActivityStatus

API_ANSWER = {
    "rows": 2,
    "os": 0,
    "page": 1,
    "total": "2,345",
    "projects": {
        "P178351": {
            "id": "P178351",
            "project_name": "Colombia Urban Resilience",
            "countrycode": ["CO"],
            "countryname": ["Republic of Colombia"],
            "totalamt": "105,000,000",
            "curr_total_commitment": "105",
            "status": "Active",
            "boardapprovaldate": "2023-06-15T00:00:00Z",
            "closingdate": "2028-12-31T00:00:00Z",
            "project_abstract": {"cdata": "Resilient cities."},
            "ibrdcommamt": "105,000,000",
        },
        "P000001": {
            "id": "P000001",
            "project_name": "Regional",
            "countrycode": ["3A"],
            "status": "Pipeline",
        },
    },
}


def test_shared_records(feeds):
    result = world_bank.parse(feeds / "world_bank" / "world_bank_projects.json")
    acts = result.activities
    assert result.document == "World Bank project records"
    assert len(acts) == 500 and not result.skipped
    assert Counter(a.status for a in acts) == {
        ActivityStatus.IMPLEMENTATION: 438,
        ActivityStatus.CLOSED: 62,
    }
    first = acts[0]
    assert (first.source_id, first.iati_identifier) == ("P129828", "44000-P129828")
    assert first.title == "Ethiopia General Education Quality Improvement Project II"
    assert first.descriptions[0].text.startswith("The development objective")
    assert (first.amount, first.currency) == (Decimal("130000000"), "USD")
    assert [o.ref for o in first.funding_orgs] == ["44002"]  # IDA commitment only
    assert first.start == date(2013, 11, 12) and first.end == date(2018, 7, 7)
    assert [(s.code, s.percentage) for s in first.sectors][:2] == [("EP", 46), ("ES", 26)]
    assert sum(1 for a in acts if "CO" in a.recipient_countries) == 3
    # the Bank's own codes: RY is Yemen; region codes (3A, 1W, ...) are not countries
    countries = Counter(c for a in acts for c in a.recipient_countries)
    assert countries["YE"] == 13 and "RY" not in countries and "3A" not in countries
    # a grant-only trust fund project is funded by the Bank itself
    tunisia = next(a for a in acts if a.source_id == "P144674")
    assert [o.ref for o in tunisia.funding_orgs] == ["44000"]


def test_mongo_export_reads_the_same(feeds):
    full = world_bank.parse(feeds / "world_bank" / "world_bank_projects.json").activities
    less = world_bank.parse(feeds / "world_bank" / "world_bank_projects_less.json").activities
    assert [a.fingerprint() for a in less] == [a.fingerprint() for a in full[:2]]


def test_current_api_answer():
    result = world_bank.parse(json.dumps(API_ANSWER).encode())
    assert result.document == "World Bank projects API answer" and result.total_available == 2345
    colombia, regional = result.activities
    assert colombia.recipient_countries == ("CO",)
    assert colombia.amount == Decimal("105000000") and colombia.amount_basis == "total commitment"
    assert [o.ref for o in colombia.funding_orgs] == ["44001"]
    assert colombia.descriptions[0].text == "Resilient cities."
    assert regional.recipient_countries == () and regional.status == ActivityStatus.PIPELINE
    assert regional.amount is None


def test_bad_records_are_skipped():
    data = json.dumps(
        [
            {"id": "X1", "project_name": "bad id"},
            {"id": "P000002"},
            {"id": "P000003", "project_name": "ok"},
            {"id": "P000003", "project_name": "again"},
        ]
    ).encode()
    result = world_bank.parse(data)
    assert [a.source_id for a in result.activities] == ["P000003"]
    assert [s.source_id for s in result.skipped] == ["X1", "P000002", "P000003"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("eu_ft/search_response_EUAF-2023-TRAI-03.json", WrongKind),
        ("grants_gov/search_response_2020-10-09.json", WrongKind),
        ("iati/iaf_organisation.xml", WrongKind),
    ],
)
def test_other_kinds_are_refused(feeds, name, error):
    with pytest.raises(error):
        world_bank.parse(feeds / name)


def test_truncated_json(feeds):
    data = (feeds / "world_bank" / "world_bank_projects.json").read_bytes()
    with pytest.raises(MalformedFeed, match="truncated"):
        world_bank.parse(data[:100_000])
