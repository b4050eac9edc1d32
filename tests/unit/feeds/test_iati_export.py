"""The IATI export: valid against the 2.03 schema, and read back the same by the IATI parser."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from services.feeds import iati
from services.feeds.iati_export import (
    LINE_SECTORS,
    STAGE_STATUS,
    Commitment,
    ExportActivity,
    ExportFunder,
    ReportingOrg,
    sector_shares,
    write_iati_activities,
)
from services.feeds.records import ActivityStatus, OrgRole

AGENCY = ReportingOrg("CO-NIT-811000000", "Agencia de Cooperación e Inversión de Medellín")
KOICA = ExportFunder("Korea International Cooperation Agency", "KR-GOV-010", "bilateral")
EU = ExportFunder("European Union", "XI-IATI-EC", "multilateral")
FOUNDATION = ExportFunder("Fundación Ejemplo", None, "foundation")
GENERATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

ACTIVITIES = [
    ExportActivity(
        own_id="alliance-1",
        title="Movilidad eléctrica en el Valle de Aburrá",
        description="Buses eléctricos y formación de conductoras.",
        stage="in_execution",
        funders=(KOICA,),
        lines=("sustainable_territory", "social_inclusion", "governance_peace"),
        sdgs=(11, 13, 5),
        commitments=(Commitment(KOICA, Decimal("1250000.50"), "USD", date(2019, 3, 1)),),
        start=date(2019, 4, 1),
        end=date(2023, 12, 31),
        last_updated=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    ),
    ExportActivity(
        own_id="project-7",
        title="Escuelas de música",
        stage="execution",
        lines=("human_development",),
        commitments=(
            Commitment(EU, Decimal("300000"), "EUR", date(2021, 5, 1)),
            Commitment(FOUNDATION, Decimal("200000"), "EUR", date(2021, 6, 1)),
        ),
    ),
    ExportActivity("alliance-2", "En negociación", "negotiating", funders=(FOUNDATION,)),
    ExportActivity("alliance-3", "Cerrada", "closed", funders=(EU,), end=date(2020, 1, 1)),
    ExportActivity("alliance-4", "Descartada", "dropped", funders=(KOICA,)),
]


@pytest.fixture(scope="module")
def schema(feeds):
    return etree.XMLSchema(
        etree.parse(str(feeds / "iati" / "schema" / "iati-activities-schema.xsd"))
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("export") / "activities.xml"
    assert write_iati_activities(path, ACTIVITIES, AGENCY, generated=GENERATED) == len(ACTIVITIES)
    return path.read_bytes()


def test_export_validates_against_the_iati_203_schema(schema, exported):
    doc = etree.fromstring(exported)
    assert schema.validate(doc), schema.error_log
    assert doc.get("version") == "2.03"


def test_export_reads_back_through_the_iati_parser(exported):
    acts = {a.source_id: a for a in iati.parse(exported).activities}
    first = acts["CO-NIT-811000000-alliance-1"]
    assert first.title == "Movilidad eléctrica en el Valle de Aburrá"
    assert first.language == "es" and first.titles[0].lang == "es"
    assert first.reporting_org.ref == "CO-NIT-811000000"
    assert [(o.ref, o.type) for o in first.funding_orgs] == [("KR-GOV-010", "10")]
    agency = [o for o in first.participating_orgs if o.role == OrgRole.ACCOUNTABLE]
    assert [o.ref for o in agency] == ["CO-NIT-811000000"]
    assert first.status == ActivityStatus.IMPLEMENTATION
    assert (first.amount, first.currency, first.amount_basis) == (
        Decimal("1250000.50"),
        "USD",
        "commitments",
    )
    assert (first.start, first.end) == (date(2019, 4, 1), date(2023, 12, 31))
    assert first.recipient_countries == ("CO",)
    shares = {s.code: s.percentage for s in first.sectors}
    assert set(shares) == {"43030", "41010", "16010", "15160", "15150", "15220"}
    assert sum(shares.values()) == 100
    assert first.last_updated == "2025-01-02T03:04:05+00:00"
    project = acts["CO-NIT-811000000-project-7"]
    # commitments in EUR from two allies: both funders, the sum in EUR
    assert [o.name for o in project.funding_orgs] == ["European Union", "Fundación Ejemplo"]
    assert (project.amount, project.currency) == (Decimal("500000.00"), "EUR")
    assert [s.code for s in project.sectors] == list(LINE_SECTORS["human_development"])
    assert acts["CO-NIT-811000000-alliance-2"].status == ActivityStatus.PIPELINE
    assert acts["CO-NIT-811000000-alliance-3"].status == ActivityStatus.CLOSED
    assert acts["CO-NIT-811000000-alliance-4"].status == ActivityStatus.CANCELLED


def test_sdgs_are_tags_of_the_un_vocabulary(exported):
    doc = etree.fromstring(exported)
    tags = doc.xpath("iati-activity[1]/tag")
    assert [(t.get("vocabulary"), t.get("code")) for t in tags] == [
        ("2", "11"),
        ("2", "13"),
        ("2", "5"),
    ]


def test_every_line_and_stage_is_mapped_to_active_codes(feeds):
    from models.enums import AllianceStage, Line, ProjectStage

    codelist = etree.parse(str(feeds / "iati" / "codelists" / "Sector.xml"))
    active = {
        item.findtext("code")
        for item in codelist.iter("codelist-item")
        if item.get("status", "active") == "active"
    }
    assert {line.value for line in Line} == set(LINE_SECTORS)
    assert all(code in active for codes in LINE_SECTORS.values() for code in codes)
    stages = {s.value for s in AllianceStage} | {s.value for s in ProjectStage}
    assert stages <= set(STAGE_STATUS)


def test_sector_shares_add_up():
    for lines in (
        ["social_inclusion"],
        ["social_inclusion", "human_development"],
        list(LINE_SECTORS),
        ["economic_development", "unknown"],
    ):
        shares = sector_shares(lines)
        assert sum(p for _, p in shares) == 100
    assert sector_shares([]) == []


def test_nothing_to_export_and_unknown_stage():
    with pytest.raises(ValueError, match="nothing to export"):
        write_iati_activities(io.BytesIO(), [], AGENCY)
    with pytest.raises(ValueError, match="unknown stage"):
        write_iati_activities(io.BytesIO(), [ExportActivity("x", "t", "someday")], AGENCY)
