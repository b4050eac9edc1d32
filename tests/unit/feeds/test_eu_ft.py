"""The EU Funding & Tenders parser on the shared portal files and on variants written here."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from services.feeds import eu_ft
from services.feeds.errors import MalformedFeed, TooLarge, WrongEncoding, WrongKind
from services.feeds.records import OfferState


def load(feeds, name):
    return json.loads((feeds / "eu_ft" / name).read_bytes())


def response(*results, total=None):
    return json.dumps(
        {
            "apiVersion": "2.122",
            "totalResults": total if total is not None else len(results),
            "pageNumber": 1,
            "pageSize": 50,
            "results": list(results),
        }
    ).encode()


def test_whole_search_response(feeds):
    result = eu_ft.parse(feeds / "eu_ft" / "search_response_EUAF-2023-TRAI-03.json")
    assert result.document == "EU Funding & Tenders search response"
    assert result.total_available == 510841
    (offer,) = result.offers
    assert offer.source_id == "EUAF-2023-TRAI-03" and offer.title == "Staff exchanges"
    assert offer.status == OfferState.CLOSED and offer.closed_reason == "closed at the source"
    assert offer.programme == "EU Anti-fraud Programme (EUAF)"
    assert offer.call_id == "EUAF-2023-TRAI"
    assert offer.opens_on == date(2023, 3, 9) and offer.deadlines == (date(2023, 5, 11),)
    # the budget overview is shared by four topics of the call: only this one's line counts
    assert offer.total_budget == Decimal("900000") and offer.currency == "EUR"
    # the index copy is Bulgarian ("bg") but the text is English, as the portal publishes it
    assert offer.language == "en"
    kinds = [p.kind for p in offer.passages]
    assert kinds == ["description", "conditions"]
    assert offer.passages[0].text.startswith("Scope:\nOrganising staff exchanges")
    assert "<" not in offer.description
    assert offer.link.endswith("/topic-details/euaf-2023-trai-03")


def test_single_results_forthcoming_and_open(feeds):
    erasmus = eu_ft.parse(
        feeds / "eu_ft" / "search_result_ERASMUS-EDU-2025-PI-ALL-INNO-EDU-ENTERP.json"
    ).offers[0]
    assert erasmus.status == OfferState.FORTHCOMING
    assert erasmus.deadlines == (date(2025, 3, 6),) and erasmus.opens_on == date(2024, 12, 5)
    assert erasmus.programme == "Erasmus+ Programme (ERASMUS)"
    assert erasmus.total_budget == Decimal("62000000")  # the string "62000000" in the map
    pppa = eu_ft.parse(feeds / "eu_ft" / "search_result_PPPA-2024-SKILL-FOR-TOURISM.json").offers[0]
    assert pppa.status == OfferState.OPEN and pppa.deadline == date(2025, 2, 13)
    assert (pppa.amount_min, pppa.amount_max) == (Decimal("1"), Decimal("995000"))
    assert pppa.expected_awards == 1 and pppa.last_updated == "2024-11-28T00:01:00.196"


def test_topic_details_two_stage(feeds):
    result = eu_ft.parse(
        feeds / "eu_ft" / "topic_details_HORIZON-WIDERA-2025-ACCESS-01-01-two-stage.json"
    )
    assert result.document == "EU Funding & Tenders topic details"
    (offer,) = result.offers
    assert offer.status == OfferState.FORTHCOMING
    assert offer.deadline_model == "two-stage"
    # epoch milliseconds read in Brussels time: both stages kept, in order
    assert offer.deadlines == (date(2025, 4, 10), date(2026, 1, 20))
    assert offer.deadline == date(2025, 4, 10)
    assert offer.next_deadline(date(2025, 5, 1)) == date(2026, 1, 20)
    assert offer.opens_on == date(2024, 12, 3)
    assert (offer.amount_min, offer.amount_max) == (Decimal("8000000"), Decimal("15000000"))
    assert offer.total_budget == Decimal("270000000") and offer.expected_awards == 18
    assert offer.programme == "Horizon Europe (HORIZON)" and offer.programme_id == "43108390"


def test_topic_details_budget_line_of_another_topic_is_not_taken(feeds):
    (offer,) = eu_ft.parse(
        feeds / "eu_ft" / "topic_details_CEF-T-2024-SAFEMOBGEN-EXTBORDER-WORKS.json"
    ).offers
    assert offer.status == OfferState.OPEN
    # its only budget line names CEF-T-2024-SAFEMOBGEN-PARKINGS-WORKS
    assert offer.total_budget is None and offer.currency is None
    assert offer.deadlines == (date(2025, 1, 21),) and offer.deadline_model == "single-stage"
    assert offer.last_updated == "2024-09-24T00:01:00.215"


def test_language_copies_are_one_offer_english_preferred(feeds):
    item = load(feeds, "search_result_PPPA-2024-SKILL-FOR-TOURISM.json")
    german = copy.deepcopy(item)
    german["reference"] = "47294886TOPICSde"
    german["language"] = "de"
    german["metadata"]["title"] = ["Titel auf Deutsch"]
    result = eu_ft.parse(response(german, item, copy.deepcopy(german)))
    assert [o.title for o in result.offers] == [item["metadata"]["title"][0]]
    assert len(result.skipped) == 2
    assert all("another language copy" in s.reason for s in result.skipped)


def test_tenders_from_the_postman_sample_are_skipped(feeds):
    collection = load(feeds, "docs/cs_public_apis.postman_collection.json")
    body = next(r["body"] for i in collection["item"] for r in i.get("response", []))
    result = eu_ft.parse(body.encode())
    assert result.offers == [] and len(result.skipped) == 10
    assert all("tender" in s.reason for s in result.skipped)


@pytest.mark.parametrize(
    ("database", "metadata", "words"),
    [
        ("SEDIA_FAQ", {"type": ["1"], "question": ["How?"]}, "FAQ"),
        ("SEDIA_PERSON", {"type": ["PERSON"], "name": ["Lara"]}, "partner-search"),
        ("SEDIA_NONH2020_PROD", {"projectAcronym": ["X"]}, "funded project"),
        ("SEDIA", {"type": ["6"], "title": ["News"]}, "funding update"),
        ("SEDIA", {"type": ["PERSON"]}, "partner-search"),
    ],
)
def test_other_datasets_are_recognised_not_imported(database, metadata, words):
    item = {"reference": "r1en", "database": database, "language": "en", "metadata": metadata}
    result = eu_ft.parse(response(item))
    assert result.offers == []
    (skip,) = result.skipped
    assert skip.reason.startswith("not a call") and words in skip.reason


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("world_bank/world_bank_projects_less.json", "JSON array of 2 items"),
        ("grants_gov/opportunity_detail_329382.json", "keys agencyDetails"),
        ("grants_gov/search_response_2020-10-09.json", "keys accessKey"),
    ],
)
def test_json_of_another_kind_is_refused(feeds, name, words):
    with pytest.raises(WrongKind, match=words):
        eu_ft.parse(feeds / name)


def test_xml_and_broken_json_are_refused(feeds):
    with pytest.raises(WrongKind, match="must be JSON, but this is XML"):
        eu_ft.parse(feeds / "iati" / "activity-standard-example-annotated.xml")
    data = (feeds / "eu_ft" / "search_response_EUAF-2023-TRAI-03.json").read_bytes()
    with pytest.raises(MalformedFeed, match="truncated"):
        eu_ft.parse(data[:5000])
    with pytest.raises(MalformedFeed, match="line 1"):
        eu_ft.parse(b'{"results": [}')
    with pytest.raises(WrongEncoding, match="not valid UTF-8"):
        eu_ft.parse('{"title": "Educación"}'.encode("latin-1"))
    with pytest.raises(TooLarge):
        eu_ft.parse(data, max_bytes=1000)


def test_unknown_status_and_missing_identifier_are_skipped(feeds):
    item = load(feeds, "search_result_PPPA-2024-SKILL-FOR-TOURISM.json")
    odd = copy.deepcopy(item)
    odd["metadata"]["status"] = ["99999"]
    odd["metadata"]["actions"] = ["[]"]
    odd["metadata"]["identifier"] = ["ODD-1"]
    bare = copy.deepcopy(item)
    del bare["metadata"]["identifier"]
    result = eu_ft.parse(response(odd, bare))
    assert result.offers == []
    assert [s.source_id for s in result.skipped] == ["47294886TOPICSen", "ODD-1"] or [
        s.source_id for s in result.skipped
    ] == ["ODD-1", "47294886TOPICSen"]
