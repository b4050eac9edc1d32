"""The IATI parser on the shared real files and on malformed variants written here."""

from __future__ import annotations

import io
import time
from collections import Counter
from decimal import Decimal

import pytest

from services.feeds import iati
from services.feeds.errors import MalformedFeed, TooLarge, UnsafeFeed, WrongEncoding, WrongKind
from services.feeds.records import ActivityStatus, FeedActivity, OrgRole, Skip


def activity_xml(body: str, attrs: str = 'xml:lang="en" default-currency="USD"') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">'
        f"<iati-activity {attrs}>{body}</iati-activity></iati-activities>"
    ).encode()


MINIMAL = (
    "<iati-identifier>XM-TEST-1</iati-identifier>"
    '<reporting-org ref="XM-TEST" type="40"><narrative>Test</narrative></reporting-org>'
    "<title><narrative>Clean water</narrative></title>"
)


# --- the shared files ---------------------------------------------------------------------


def test_world_bank_dportal_page(feeds):
    result = iati.parse(feeds / "iati" / "worldbank_dportal_4.xml")
    acts = result.activities
    assert result.document == "IATI activities 2.03"
    assert len(acts) == 100 and not result.skipped
    # D-Portal writes language codes upper case; they come out lower case
    assert {n.lang for a in acts for n in a.titles} == {"en"}
    # 98 of the 100 descriptions are empty narratives: no description passage for those
    assert sum(1 for a in acts if not a.descriptions) == 98
    funders = Counter(o.ref for a in acts for o in a.funding_orgs)
    assert funders["44002"] == 73 and funders["44001"] == 28
    assert sum(1 for a in acts if "CO" in a.recipient_countries) == 2
    # the version comes from D-Portal's own attribute; no last-updated stamp in these pages
    assert {a.version for a in acts} == {"2.03"} and {a.last_updated for a in acts} == {None}
    first = acts[0]
    assert first.iati_identifier == "44000-P174049"
    assert first.reporting_org.ref == "44000" and first.reporting_org.name == "World Bank"
    assert first.status == ActivityStatus.IMPLEMENTATION
    # activity-date elements without @iso-date (102 in this file) are ignored, not fatal
    assert first.start.isoformat() == "2021-01-22" and first.end is None
    # no transactions: the amount is the sum of the original budgets (revised ones are 0)
    assert first.amount_basis == "budget" and first.currency == "USD" and first.amount > 0


def test_sida_dportal_page_keeps_both_languages(feeds):
    acts = iati.parse(feeds / "iati" / "sida_dportal_49.xml").activities
    assert len(acts) == 100
    langs = Counter(n.lang for a in acts for n in a.titles + a.descriptions)
    assert set(langs) == {"en", "sv"}
    first = acts[0]
    assert {n.lang: n.text for n in first.titles} == {
        "en": "COVID-19 Diakonia frame 2016-2020",
        "sv": "COVID-19 Diakonia ram 2016-2020",
    }
    assert first.title == "COVID-19 Diakonia frame 2016-2020"
    assert {a.funding_orgs[0].ref for a in acts} == {"SE-0"}
    countries = Counter(c for a in acts for c in a.recipient_countries)
    assert countries["PY"] == 7 and countries["PE"] == 6 and countries["CO"] == 3
    # DAC 3- and 5-digit sectors both kept; the sida: extension elements are ignored
    assert {s.vocabulary for a in acts for s in a.sectors} == {"1", "2"}
    assert first.amount_basis == "commitments" and first.currency == "USD"


def test_iaf_publisher_file_with_extensions_and_transaction_countries(feeds):
    result = iati.parse(feeds / "iati" / "iaf_colombia.xml")
    acts = result.activities
    assert len(acts) == 387 and not result.skipped
    # recipient country is given per transaction only in this file
    assert all(a.recipient_countries == ("CO",) for a in acts)
    a = next(a for a in acts if a.iati_identifier == "US-GOV-21-48738")
    assert a.title.startswith("Consolidation of the Peace-building Community of Practice")
    assert a.last_updated == "2024-12-27T14:45:57+00:00"
    # funding org ref "18" as published; the empty ref="" of the implementer becomes None
    assert [o.ref for o in a.funding_orgs] == ["18"]
    implementer = next(o for o in a.participating_orgs if o.role == OrgRole.IMPLEMENTING)
    assert implementer.ref is None and implementer.name.startswith("Corporacion Consorcio")
    # sectors come from the transactions (DAC and the publisher's own vocabulary 99)
    assert ("11230", "1") in {(s.code, s.vocabulary) for s in a.sectors}
    assert a.amount == Decimal("123455") and a.amount_basis == "commitments"
    # names without xml:lang take the activity's language
    assert a.reporting_org.names[0].lang == "en"


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("activity-standard-example-annotated.xml", "2.03"),
        ("activity-standard-example-annotated-2.01.xml", "2.01"),
    ],
)
def test_official_examples_in_both_versions(feeds, name, version):
    (a,) = iati.parse(feeds / "iati" / name).activities
    assert a.version == version
    assert a.iati_identifier == "AA-AAA-123456789-ABC123"
    assert [(n.lang, n.text) for n in a.titles] == [
        ("en", "Activity title"),
        ("fr", "Titre de l'activité"),
        ("es", "Título de la actividad"),
    ]
    assert [d.kind for d in a.descriptions if d.lang == "en"] == [
        "description",
        "objectives",
        "target_groups",
    ]
    assert [o.ref for o in a.funding_orgs] == ["BB-BBB-123456789"]
    assert a.status == ActivityStatus.IMPLEMENTATION
    assert (a.start.isoformat(), a.end.isoformat()) == ("2012-04-28", "2015-12-31")
    assert a.years == (2012, 2015)
    # only incoming funds in its one transaction: the amount is its EUR budget
    assert (a.amount, a.currency, a.amount_basis) == (Decimal("3000"), "EUR", "budget")
    assert a.last_updated == "2014-09-10T07:15:37Z"


def test_organisation_files(feeds):
    (org,) = iati.parse(feeds / "iati" / "iaf_organisation.xml").organisations
    assert org.source_id == "US-GOV-21" and org.name == "Inter-American Foundation"
    assert len(org.total_budgets) == 7 and org.total_budgets[0].value == Decimal("38000000")
    result = iati.parse(feeds / "iati" / "organisation-standard-example-annotated.xml")
    assert result.document == "IATI organisations 2.03"
    (example,) = result.organisations
    assert [n.lang for n in example.names] == ["en", "fr"]


def test_same_file_twice_gives_the_same_fingerprints(feeds):
    path = feeds / "iati" / "iaf_colombia.xml"
    first = [a.fingerprint() for a in iati.parse(path).activities]
    second = [a.fingerprint() for a in iati.parse(path.read_bytes()).activities]
    assert first == second and len(set(first)) == 387


def test_paths_bytes_and_streams_read_alike(feeds):
    path = feeds / "iati" / "activity-standard-example-annotated.xml"
    data = path.read_bytes()
    by_path = iati.parse(str(path)).records
    assert iati.parse(data).records == by_path
    assert iati.parse(io.BytesIO(data)).records == by_path


# --- variants real data has -----------------------------------------------------------------


def test_iati_1x_spellings_are_read():
    xml = activity_xml(
        "<iati-identifier>XM-OLD-1</iati-identifier>"
        '<title xml:lang="en">Old style title</title><title xml:lang="es">Título antiguo</title>'
        '<participating-org role="Funding" ref="XM-DAC-41114">UNDP</participating-org>'
        '<activity-date type="start-actual" iso-date="2010-01-05"/>'
        '<transaction><transaction-type code="C"/><value currency="EUR">100</value></transaction>'
        '<transaction><transaction-type code="C"/><value currency="EUR">50.5</value></transaction>',
        'version="1.05"',
    )
    (a,) = iati.parse(xml).activities
    assert [(n.lang, n.text) for n in a.titles] == [
        ("en", "Old style title"),
        ("es", "Título antiguo"),
    ]
    assert a.funding_orgs[0].ref == "XM-DAC-41114" and a.funding_orgs[0].name == "UNDP"
    assert a.start.isoformat() == "2010-01-05"
    assert (a.amount, a.currency, a.amount_basis) == (Decimal("150.5"), "EUR", "commitments")


def test_narrative_language_inheritance_and_empty_narratives():
    xml = activity_xml(
        MINIMAL.replace("<title><narrative>Clean water</narrative></title>", "")
        + '<title xml:lang="FR"><narrative>Eau</narrative><narrative xml:lang="ES">Agua'
        "</narrative><narrative>   </narrative><narrative/></title>",
        'xml:lang="EN"',
    )
    (a,) = iati.parse(xml).activities
    assert [(n.lang, n.text) for n in a.titles] == [("fr", "Eau"), ("es", "Agua")]
    assert a.reporting_org.names[0].lang == "en"


def test_extension_elements_in_other_namespaces_are_ignored():
    xml = activity_xml(
        MINIMAL
        + '<x:title xmlns:x="urn:ext"><narrative>not a title</narrative></x:title>'
        + '<x:iati-activity xmlns:x="urn:ext"><iati-identifier>NO</iati-identifier>'
        "</x:iati-activity>" + '<sector code="15150" x:weight="2" xmlns:x="urn:ext"/>'
    )
    (a,) = iati.parse(xml).activities
    assert a.title == "Clean water" and [t.text for t in a.titles] == ["Clean water"]
    assert [(s.code, s.vocabulary) for s in a.sectors] == [("15150", "1")]


def test_activity_without_identifier_and_repeated_identifier_are_skipped():
    one = activity_xml(MINIMAL)
    body = one.split(b'<iati-activities version="2.03">')[1].split(b"</iati-activities>")[0]
    no_id = b"<iati-activity><title><narrative>Orphan</narrative></title></iati-activity>"
    xml = b'<iati-activities version="2.03">' + body + body + no_id + b"</iati-activities>"
    result = iati.parse(xml)
    assert [a.source_id for a in result.activities] == ["XM-TEST-1"]
    assert [s.source_id for s in result.skipped] == ["XM-TEST-1", None]
    assert "Orphan" in result.skipped[1].reason


def test_declared_latin1_encoding_is_honoured():
    xml = activity_xml(MINIMAL.replace("Clean water", "Corporación")).replace(
        b'encoding="UTF-8"', b'encoding="ISO-8859-1"'
    )
    latin1 = xml.decode("utf-8").encode("latin-1")
    assert iati.parse(latin1).activities[0].title == "Corporación"


def test_empty_activity_file_is_valid():
    result = iati.parse(b'<iati-activities version="2.03"></iati-activities>')
    assert result.records == [] and result.document == "IATI activities 2.03"


# --- malformed and hostile input ------------------------------------------------------------


def test_xxe_is_refused_and_nothing_is_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE iati-activities [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f"<iati-activities><iati-activity><iati-identifier>&xxe;</iati-identifier>"
        f"</iati-activity></iati-activities>"
    ).encode()
    with pytest.raises(UnsafeFeed, match="DTD") as info:
        iati.parse(xml)
    assert "TOP-SECRET" not in str(info.value)


def test_billion_laughs_is_refused_quickly():
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><iati-activities><iati-activity>'
        f"<iati-identifier>&a9;</iati-identifier></iati-activity></iati-activities>"
    ).encode()
    start = time.monotonic()
    with pytest.raises(UnsafeFeed):
        iati.parse(xml)
    assert time.monotonic() - start < 2


def test_doctype_hidden_behind_a_long_comment_is_still_refused():
    comment = b"<!--" + b"x" * 100_000 + b"-->"
    xml = (
        b'<?xml version="1.0"?>'
        + comment
        + b'<!DOCTYPE iati-activities [<!ENTITY e "boom">]>'
        + activity_xml(MINIMAL.replace("Clean water", "&e;")).split(b"?>", 1)[1]
    )
    with pytest.raises(UnsafeFeed):
        iati.parse(xml)


def test_truncated_file_fails_whole(feeds):
    data = (feeds / "iati" / "worldbank_dportal_4.xml").read_bytes()
    with pytest.raises(MalformedFeed, match="truncated"):
        iati.parse(data[: len(data) // 2])


def test_truncated_file_streamed_yields_records_before_the_error(feeds):
    data = (feeds / "iati" / "worldbank_dportal_4.xml").read_bytes()
    got = []
    with pytest.raises(MalformedFeed):
        for item in iati.iter_records(data[: len(data) // 2]):
            got.append(item)
    # the streaming interface gives records before it meets the end: callers roll back
    assert got and all(isinstance(r, FeedActivity | Skip) for r in got)


def test_wrong_encoding_is_named(feeds):
    data = (feeds / "iati" / "iaf_colombia.xml").read_bytes()
    # the file is UTF-8 without a declaration; as Latin-1 bytes it is not valid UTF-8
    broken = data.decode("utf-8").encode("latin-1", errors="replace")
    with pytest.raises(WrongEncoding, match="encoding"):
        iati.parse(broken)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b'{"results": []}', WrongKind, "must be XML, but this is JSON"),
        (b"<rss><channel/></rss>", WrongKind, "root element is <rss>"),
        (b"", MalformedFeed, "empty"),
        (b"   \n", MalformedFeed, "empty"),
        (b"<iati-activities><iati-activity>", MalformedFeed, "truncated"),
        (b"<iati-activities><b></c></iati-activities>", MalformedFeed, "line 1"),
        (activity_xml("<title>&nbsp;</title>"), MalformedFeed, "nbsp"),
    ],
)
def test_not_iati(data, error, words):
    with pytest.raises(error, match=words):
        iati.parse(data)


def test_size_cap(feeds, tmp_path):
    path = feeds / "iati" / "sida_dportal_49.xml"
    with pytest.raises(TooLarge, match="limit"):
        iati.parse(path, max_bytes=1_000_000)
    with pytest.raises(TooLarge, match="limit"):
        iati.parse(io.BytesIO(path.read_bytes()), max_bytes=1_000_000)


def test_activities_inside_a_wrapper_are_read(feeds):
    # IATI Datastore answers wrap the activities (<result><iati-activities>...); any depth works
    data = (feeds / "iati" / "activity-standard-example-annotated.xml").read_bytes()
    inner = data.split(b"?>", 1)[1]
    wrapped = b"<result><ok>True</ok><query><limit>50</limit></query>" + inner + b"</result>"
    result = iati.parse(wrapped)
    (a,) = result.activities
    assert a.iati_identifier == "AA-AAA-123456789-ABC123" and a.version == "2.03"
    assert result.document == "IATI activities 2.03"
