"""The Grants.gov parser: the shared JSON answers, and XML extracts written here per the XSD.

No real daily extract file exists in any public repository (see shared/feeds/grants_gov/
SOURCE.md), so the extract fixtures below are written by hand from the XSD in
shared/feeds/grants_gov/schema/ and the values of the shared JSON samples; every one is
validated against that XSD before it is parsed, so they stay true to the format.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from services.feeds import grants_gov
from services.feeds.errors import (
    MalformedFeed,
    SourceError,
    TooLarge,
    UnsafeFeed,
    WrongKind,
)
from services.feeds.records import OfferState

NS = "http://apply.grants.gov/system/OpportunityDetail-V1.0"

# Synthetic, hand-written per OpportunityDetail-V1.0.xsd (no real extract file exists).
SYNOPSIS = """
<OpportunitySynopsisDetail_1_0>
  <OpportunityID>{id}</OpportunityID>
  <OpportunityTitle>{title}</OpportunityTitle>
  <OpportunityNumber>{number}</OpportunityNumber>
  <OpportunityCategory>D</OpportunityCategory>
  <FundingInstrumentType>G</FundingInstrumentType>
  <FundingInstrumentType>CA</FundingInstrumentType>
  <CategoryOfFundingActivity>ST</CategoryOfFundingActivity>
  <CFDANumbers>{cfda}</CFDANumbers>
  {eligible}
  <AdditionalInformationOnEligibility>{eligibility}</AdditionalInformationOnEligibility>
  <AgencyCode>{agency}</AgencyCode>
  <AgencyName>{agency_name}</AgencyName>
  <PostDate>10092020</PostDate>
  <CloseDate>{close}</CloseDate>
  <LastUpdatedDate>10092020</LastUpdatedDate>
  <AwardCeiling>{ceiling}</AwardCeiling>
  <AwardFloor>{floor}</AwardFloor>
  <EstimatedTotalProgramFunding>2000000</EstimatedTotalProgramFunding>
  <ExpectedNumberOfAwards>8</ExpectedNumberOfAwards>
  <Description>{description}</Description>
  <Version>Synopsis 1</Version>
  <CostSharingOrMatchingRequirement>No</CostSharingOrMatchingRequirement>
  <ArchiveDate>{archive}</ArchiveDate>
  <AdditionalInformationURL>https://www.example.org/nofo</AdditionalInformationURL>
</OpportunitySynopsisDetail_1_0>"""

FORECAST = """
<OpportunityForecastDetail_1_0>
  <OpportunityID>{id}</OpportunityID>
  <OpportunityTitle>{title}</OpportunityTitle>
  <OpportunityNumber>{number}</OpportunityNumber>
  <FundingInstrumentType>G</FundingInstrumentType>
  <EligibleApplicants>12</EligibleApplicants>
  <AgencyCode>HHS-CDC-CGH</AgencyCode>
  <AgencyName>Centers for Disease Control - CGH</AgencyName>
  <PostDate>10082020</PostDate>
  <LastUpdatedDate>10082020</LastUpdatedDate>
  <EstimatedSynopsisPostDate>01152021</EstimatedSynopsisPostDate>
  <FiscalYear>2021</FiscalYear>
  <EstimatedSynopsisCloseDate>03152021</EstimatedSynopsisCloseDate>
  <AwardCeiling>none</AwardCeiling>
  <AwardFloor>0</AwardFloor>
  <Description>Accompanying Ministries of Health in Central America.</Description>
</OpportunityForecastDetail_1_0>"""


def synopsis(**values) -> str:
    fields = {
        "id": "329361",
        "title": "Supporting Greater Socio-Economic Development and Recovery",
        "number": "72065621RFA00001",
        "cfda": "98.001",
        "eligible": "<EligibleApplicants>12</EligibleApplicants>"
        "<EligibleApplicants>25</EligibleApplicants>",
        "eligibility": "Local and international non-governmental organizations are eligible.",
        "agency": "USAID-MOZ",
        "agency_name": "Mozambique USAID-Maputo",
        "close": "12152021",
        "ceiling": "500000",
        "floor": "100000",
        "description": "Grants &amp; cooperative agreements for recovery in Cabo Delgado.",
        "archive": "01142022",
    }
    fields.update(values)
    return SYNOPSIS.format(**fields)


def forecast(**values) -> str:
    fields = {"id": "329358", "title": "Shoulder to Shoulder", "number": "CDC-RFA-GH21-2101"}
    fields.update(values)
    return FORECAST.format(**fields)


def extract(*records: str, namespace: bool = True) -> bytes:
    root = f'<Grants xmlns="{NS}">' if namespace else "<Grants>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + root + "".join(records) + "</Grants>"
    ).encode()


@pytest.fixture(scope="module")
def xsd(feeds):
    return etree.XMLSchema(
        etree.parse(str(feeds / "grants_gov" / "schema" / "OpportunityDetail-V1.0.xsd"))
    )


def valid(xsd, data: bytes) -> bytes:
    doc = etree.fromstring(data)
    assert xsd.validate(doc), xsd.error_log
    return data


# --- JSON API ---------------------------------------------------------------------------------


def test_search_answer_as_partial_offers(feeds):
    result = grants_gov.parse(
        feeds / "grants_gov" / "search_response_2020-10-09.json", today=date(2020, 10, 10)
    )
    assert result.document == "Grants.gov search" and result.total_available == 2195
    offers = result.offers
    assert len(offers) == 25 and not result.skipped
    states = [o.status for o in offers]
    assert states.count(OfferState.OPEN) == 21 and states.count(OfferState.FORTHCOMING) == 4
    assert all(o.partial for o in offers)
    first = offers[0]
    assert (first.source_id, first.reference) == ("329382", "NNH20ZDA001N-EPRV")
    assert first.deadlines == (date(2020, 12, 17),) and first.opens_on == date(2020, 10, 9)
    assert first.funder.ref == "NASA-HQ" and first.eligible_countries == ("US",)
    assert first.link == "https://www.grants.gov/search-results-detail/329382"
    # HTML entities in titles are decoded
    doe = next(o for o in offers if o.source_id == "329381")
    assert "Energy Efficiency & Renewable Energy’s" in doe.title
    # USAID missions fund work abroad: no country restriction
    assert next(o for o in offers if o.source_id == "329361").eligible_countries == ()


def test_search_answer_in_the_v1_envelope(feeds):
    bare = json.loads((feeds / "grants_gov" / "search_response_2020-10-09.json").read_bytes())
    wrapped = {"errorcode": 0, "msg": "Webservice Succeeds", "token": "t", "data": bare}
    result = grants_gov.parse(json.dumps(wrapped).encode(), today=date(2020, 10, 10))
    assert len(result.offers) == 25
    failed = {"errorcode": 1, "msg": "Invalid request", "data": {}}
    with pytest.raises(SourceError, match="Invalid request"):
        grants_gov.parse(json.dumps(failed).encode())


def test_closed_and_archived_hits_are_closed(feeds):
    bare = json.loads((feeds / "grants_gov" / "search_response_2020-10-09.json").read_bytes())
    bare["oppHits"][0]["oppStatus"] = "closed"
    bare["oppHits"][1]["oppStatus"] = "archived"
    offers = grants_gov.parse(json.dumps(bare).encode()).offers
    assert [(o.status, o.closed_reason) for o in offers[:2]] == [
        (OfferState.CLOSED, "closed at the source"),
        (OfferState.CLOSED, "archived at the source"),
    ]


def test_opportunity_details(feeds):
    path = feeds / "grants_gov" / "opportunity_detail_329382.json"
    result = grants_gov.parse(path, today=date(2020, 10, 10))
    assert result.document == "Grants.gov opportunity details"
    (offer,) = result.offers
    assert not offer.partial and offer.status == OfferState.OPEN
    assert offer.funder.name == "National Aeronautics and Space Administration"
    assert (offer.programme, offer.programme_id) == ("Science", "43.001")
    assert offer.deadlines == (date(2020, 12, 17),) and offer.opens_on == date(2020, 10, 9)
    # "awardCeiling": "none", "awardFloor": "none"
    assert offer.amount_min is None and offer.amount_max is None and offer.currency is None
    assert offer.modalities == ("grant",)
    # code 25 (others, see text): no restriction by kind; the text limits it to US institutions
    assert offer.eligible_kinds == () and offer.eligible_countries == ("US",)
    assert [p.kind for p in offer.passages] == ["description", "eligibility"]
    assert offer.passages[0].text.startswith("The close date above is the date for the Step-1")
    assert offer.last_updated == "Oct 09, 2020 09:26:34 AM EDT"
    later = grants_gov.parse(path, today=date(2020, 12, 20)).offers[0]
    assert (later.status, later.closed_reason) == (OfferState.CLOSED, "its close date has passed")
    archived = grants_gov.parse(path, today=date(2021, 2, 1)).offers[0]
    assert archived.closed_reason == "archived at the source"


def test_details_eligibility_codes_and_foreign_applicants(feeds):
    doc = json.loads((feeds / "grants_gov" / "opportunity_detail_329382.json").read_bytes())
    doc["synopsis"]["applicantTypes"] = [{"id": "12"}, {"id": "06"}, {"id": "23"}, {"id": "02"}]
    doc["synopsis"]["applicantEligibilityDesc"] = "Foreign organizations are eligible to apply."
    doc["synopsis"]["awardFloor"] = "50000"
    doc["synopsis"]["awardCeiling"] = "250,000"
    offer = grants_gov.parse(json.dumps(doc).encode(), today=date(2020, 10, 10)).offers[0]
    assert offer.eligible_kinds == ("ngo", "university", "company", "local_public")
    assert offer.eligible_countries == ()
    assert (offer.amount_min, offer.amount_max, offer.currency) == (
        Decimal("50000"),
        Decimal("250000"),
        "USD",
    )
    doc["synopsis"]["applicantTypes"] = [{"id": "21"}]
    only_people = grants_gov.parse(json.dumps(doc).encode(), today=date(2020, 10, 10))
    assert only_people.offers == [] and "individuals" in only_people.skipped[0].reason


@pytest.mark.parametrize(
    ("agency", "text", "foreign"),
    [
        ("NASA-HQ", "NASA provides funding only to US institutions.", False),
        ("NSF", "Non-U.S. organizations are eligible to apply as partners.", True),
        ("NSF", "Foreign entities are not eligible to apply.", False),
        ("USAID-COL", "", True),
        ("USAID-COL", "Eligibility is limited to U.S. organizations.", False),
        ("EPA", "Public nonprofit institutions may apply.", False),
        ("DOS-INL", "Public international organizations and local NGOs may apply.", True),
    ],
)
def test_foreign_eligibility_reading(agency, text, foreign):
    assert grants_gov.foreign_eligible(agency, [text]) is foreign


# --- XML extract ------------------------------------------------------------------------------


def test_extract_synopsis_and_forecast(xsd):
    data = valid(xsd, extract(synopsis(), forecast()))
    result = grants_gov.parse(data, today=date(2020, 10, 10))
    assert result.document == "Grants.gov XML extract"
    posted, planned = result.offers
    assert posted.status == OfferState.OPEN and posted.reference == "72065621RFA00001"
    assert posted.deadlines == (date(2021, 12, 15),) and posted.opens_on == date(2020, 10, 9)
    assert (posted.amount_min, posted.amount_max) == (Decimal("100000"), Decimal("500000"))
    assert posted.total_budget == Decimal("2000000") and posted.expected_awards == 8
    assert posted.eligible_kinds == ()  # 25 present: see the text
    assert posted.eligible_countries == ()  # international NGOs are eligible
    assert posted.passages[0].text == (
        "Grants & cooperative agreements for recovery in Cabo Delgado."
    )
    assert posted.last_updated == "10092020" and posted.modalities == ("grant",)
    assert planned.status == OfferState.FORTHCOMING and planned.deadline_model == "estimated"
    assert planned.opens_on == date(2021, 1, 15) and planned.deadlines == (date(2021, 3, 15),)
    assert planned.eligible_kinds == ("ngo",) and planned.eligible_countries == ("US",)
    assert planned.amount_min is None and planned.amount_max is None  # "0" and "none"


def test_extract_closed_archived_and_superseded_forecast(xsd):
    data = valid(
        xsd,
        extract(
            synopsis(id="1", close="01152020", archive="02142021"),
            synopsis(id="2", close="01152020", archive="02142020"),
            synopsis(id="3"),
            forecast(id="3"),
        ),
    )
    result = grants_gov.parse(data, today=date(2020, 10, 10))
    assert [(o.source_id, o.status, o.closed_reason) for o in result.offers] == [
        ("1", OfferState.CLOSED, "its close date has passed"),
        ("2", OfferState.CLOSED, "archived at the source"),
        ("3", OfferState.OPEN, None),
    ]
    assert [(s.source_id, s.reason) for s in result.skipped] == [
        ("3", "a forecast superseded by its posted synopsis")
    ]


def test_extract_zipped_as_published_and_without_namespace(xsd, tmp_path):
    data = valid(xsd, extract(synopsis(), forecast()))
    archive = tmp_path / "GrantsDBExtract20201010v2.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("GrantsDBExtract20201010v2.xml", data)
    assert len(grants_gov.parse(archive, today=date(2020, 10, 10)).offers) == 2
    plain = extract(synopsis(), namespace=False)
    assert len(grants_gov.parse(plain, today=date(2020, 10, 10)).offers) == 1


def test_extract_hostile_and_broken(xsd, tmp_path):
    data = valid(xsd, extract(synopsis(), forecast()))
    with pytest.raises(MalformedFeed, match="truncated"):
        grants_gov.parse(data[:-200])
    unsafe = b'<?xml version="1.0"?><!DOCTYPE Grants [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(UnsafeFeed):
        grants_gov.parse(unsafe + data.split(b"?>", 1)[1])
    with pytest.raises(WrongKind, match="root element is <iati-activities>"):
        grants_gov.parse(b'<iati-activities version="2.03"></iati-activities>')
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.xml", extract(*[synopsis(id=str(i)) for i in range(400)]))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(TooLarge, match="unpacked"):
        grants_gov.parse(bomb, max_bytes=200_000)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.xml", data)
        z.writestr("b.xml", data)
    with pytest.raises(WrongKind, match="2 files"):
        grants_gov.parse(two)


def test_json_of_another_kind_is_refused(feeds):
    with pytest.raises(WrongKind, match="not a Grants.gov"):
        grants_gov.parse(feeds / "eu_ft" / "search_response_EUAF-2023-TRAI-03.json")
    with pytest.raises(WrongKind, match="not a Grants.gov"):
        grants_gov.parse(feeds / "world_bank" / "world_bank_projects_less.json")
    bare = json.loads((feeds / "grants_gov" / "opportunity_detail_329382.json").read_bytes())
    broken = copy.deepcopy(bare)
    del broken["synopsis"]
    with pytest.raises(WrongKind):
        grants_gov.parse(io.BytesIO(json.dumps(broken).encode()))
