"""The feed commands: import-file, run, list, and export-iati."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from lxml import etree

from models import Alliance, AllyActivity, Feed, Offer
from services import feeds
from tests import factories as f
from tests.unit.feeds.feed_server import FeedServer
from tests.web.test_cli import runner  # noqa: F401  (the fixture)


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_file_prints_the_counts_last(runner, session, shared_feeds):  # noqa: F811
    path = str(shared_feeds / "world_bank/world_bank_projects.json")
    result = runner.invoke(args=["feeds", "import-file", "world_bank", path])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "new=500 updated=0 unchanged=0 closed=0 skipped=0 failed=0"
    )
    again = runner.invoke(args=["feeds", "import-file", "world_bank", path])
    assert again.output.strip().splitlines()[-1].startswith("new=0 updated=0 unchanged=500")
    assert count(session, AllyActivity) == 500


def test_a_file_of_another_kind_exits_2_with_one_line(runner, session, shared_feeds):  # noqa: F811
    path = str(shared_feeds / "iati/iaf_colombia.xml")
    result = runner.invoke(args=["feeds", "import-file", "grants_gov", path])
    assert result.exit_code == 2
    lines = (result.stderr if hasattr(result, "stderr") else result.output).strip().splitlines()
    assert len(lines) == 1 and "nothing imported" in lines[0]
    assert count(session, Offer) == 0 and count(session, AllyActivity) == 0


def test_run_a_feed_by_name_then_list(runner, session, shared_feeds, settings):  # noqa: F811
    server = FeedServer(shared_feeds).start()
    try:
        session.add(
            Feed(name="iaf", kind="iati", url=f"{server.url}/files/iati/iaf_colombia.xml", query={})
        )
        session.commit()
        first = runner.invoke(args=["feeds", "run", "iaf"])
        assert first.exit_code == 0, first.output
        assert first.output.strip().endswith(
            "new=387 updated=0 unchanged=0 closed=0 skipped=0 failed=0"
        )
        second = runner.invoke(args=["feeds", "run", "iaf"])
        assert "iaf (not modified): new=0" in second.output
        assert server.requests[-1][2].get("If-None-Match")
    finally:
        server.stop()
    listed = runner.invoke(args=["feeds", "list"])
    assert "iaf\tiati\tevery 1440 min\tnot_modified" in listed.output
    unknown = runner.invoke(args=["feeds", "run", "nope"])
    assert unknown.exit_code == 2


def test_export_iati_validates_and_reads_back(runner, session, shared_feeds, tmp_path):  # noqa: F811
    ally = f.organization(session, name="Agencia Sueca", kind="bilateral", country="SE")
    offer = f.offer(session, ally)
    project = f.project(session)
    f.project(session, title="Parque biblioteca sin aliado")  # exported with --projects
    match = f.match(session, project, offer, status="accepted")
    session.add(
        Alliance(
            match_id=match.id,
            stage="formalised",
            amount=250000,
            currency="USD",
            started_on=date(2024, 3, 1),
            formalised_on=date(2024, 5, 1),
        )
    )
    session.commit()
    out = tmp_path / "agency.xml"
    result = runner.invoke(args=["export-iati", str(out), "--projects"])
    assert result.exit_code == 0, result.output
    schema = etree.XMLSchema(
        etree.parse(str(shared_feeds / "iati/schema/iati-activities-schema.xsd"))
    )
    document = etree.parse(str(out))
    assert schema.validate(document), schema.error_log
    back = feeds.parse("iati", out)
    assert len(back.activities) == 2
    allied = next(a for a in back.activities if "-alliance-" in a.iati_identifier)
    assert allied.iati_identifier.startswith("XX-COOPMATCH-alliance-")
    assert allied.funding_orgs[0].name == "Agencia Sueca"
    assert (allied.amount, allied.currency) == (250000, "USD")


def test_export_iati_with_nothing_to_export_exits_2(runner, tmp_path):  # noqa: F811
    empty = runner.invoke(args=["export-iati", str(tmp_path / "none.xml")])
    assert empty.exit_code == 2
    assert not (tmp_path / "none.xml").exists() or (tmp_path / "none.xml").stat().st_size == 0


def test_beat_looks_for_due_feeds_and_the_tasks_are_registered(settings):
    from workers.celery_app import beat_schedule, celery_settings
    from workers.main import app

    assert beat_schedule(settings)["feeds"]["task"] == "feeds.run_due"
    assert {"feeds.run_due", "feeds.run"} <= set(app.tasks)
    assert celery_settings(settings)["task_routes"]["feeds.*"] == {"queue": "feeds"}


def test_staff_api_offers_are_manual(client, session):
    ally = f.organization(session)
    _, raw = f.token(session, "staff")
    body = {
        "organization_id": ally.id,
        "title": "Asistencia técnica",
        "description": "Expertos en movilidad eléctrica",
        "modalities": ["technical_assistance"],
        "language": "es",
    }
    response = client.post("/api/v1/offers", json=body, headers=f.auth(raw))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["source"] == "manual"
