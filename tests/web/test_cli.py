"""The flask commands: users and tokens, import and export."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from models import ApiToken, Offer, Organization, Project, User
from tests import factories as f


@pytest.fixture
def runner(app):
    return app.test_cli_runner(mix_stderr=False) if _mix_supported() else app.test_cli_runner()


def _mix_supported() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_user_and_token(runner, session, client):
    result = runner.invoke(
        args=["create-user", "Ana@Example.org", "--role", "staff", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "ana@example.org"))
    assert user.role == "staff" and user.password_hash.startswith("$argon2id$")
    result = runner.invoke(args=["create-token", "ana@example.org"])
    assert result.exit_code == 0
    raw = result.stdout.strip().splitlines()[0]
    assert raw.startswith("cm_")
    assert count(session, ApiToken) == 1
    assert client.get("/api/v1/offers", headers=f.auth(raw)).status_code == 200
    token_id = session.scalar(sa.select(ApiToken.id))
    assert runner.invoke(args=["revoke-token", str(token_id)]).exit_code == 0
    assert client.get("/api/v1/offers", headers=f.auth(raw)).status_code == 401


def test_create_user_refuses_bad_input_with_one_line(runner, session):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "password too short" in result.stderr
    result = runner.invoke(
        args=["create-user", "p@example.org", "--role", "partner", "--password-stdin"],
        input="long enough pass\n",
    )
    assert result.exit_code == 1 and "organisation" in result.stderr
    assert runner.invoke(args=["create-token", "nobody@example.org"]).exit_code == 1


OFFERS_CSV = """title,description,organization,organization_kind,organization_country,modalities,lines,sdgs,amount_min,amount_max,currency,language,deadline,status
Clean air fund,Grants for air quality monitoring networks in cities.,Clean Air Trust,foundation,GB,grant,sustainable_territory,3|11,10000,90000,USD,en,2027-06-30,published
Becas de posgrado,Becas para funcionarios públicos en gestión urbana.,Universidad Ejemplo,university,ES,knowledge_exchange,human_development,4,,,,es,,published
"""


def test_import_csv_then_export_round_trip(runner, session, tmp_path):
    source = tmp_path / "offers.csv"
    source.write_text(OFFERS_CSV, encoding="utf-8")
    result = runner.invoke(args=["import", "offers", str(source)])
    assert result.exit_code == 0, result.stderr
    assert "2 created" in result.output
    assert count(session, Offer) == 2 and count(session, Organization) == 2
    offer = session.scalar(sa.select(Offer).where(Offer.title == "Clean air fund"))
    assert offer.sdgs == [3, 11] and offer.source == "import" and offer.currency == "USD"

    for fmt in ("csv", "json", "jsonl"):
        out = tmp_path / f"export.{fmt}"
        assert runner.invoke(args=["export", "offers", str(out)]).exit_code == 0
        rows = _rows(out, fmt)
        assert sorted(r["title"] for r in rows) == ["Becas de posgrado", "Clean air fund"]

    exported = tmp_path / "export.jsonl"
    session.execute(sa.delete(Offer))
    session.execute(sa.delete(Organization))
    session.commit()
    result = runner.invoke(args=["import", "offers", str(exported)])
    assert result.exit_code == 0, result.stderr
    again = session.scalar(sa.select(Offer).where(Offer.title == "Clean air fund"))
    for field in (
        "description",
        "modalities",
        "lines",
        "sdgs",
        "amount_min",
        "amount_max",
        "currency",
        "language",
        "deadline",
        "status",
    ):
        assert getattr(again, field) == getattr(offer, field), field
    assert again.organization.kind == "foundation"


def _rows(path, fmt):
    import csv

    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        return list(csv.DictReader(text.splitlines()))
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return json.loads(text)


def test_broken_row_aborts_the_whole_import(runner, session, tmp_path):
    broken = OFFERS_CSV + "Bad,too short,Clean Air Trust,,,bitcoin,,,5,1,USD,en,,published\n"
    source = tmp_path / "broken.csv"
    source.write_text(broken, encoding="utf-8")
    result = runner.invoke(args=["import", "offers", str(source)])
    assert result.exit_code == 1
    assert "line 4:" in result.stderr and "modalities" in result.stderr
    assert "nothing imported" in result.stderr
    assert count(session, Offer) == 0 and count(session, Organization) == 0

    result = runner.invoke(args=["import", "offers", str(source), "--skip-invalid"])
    assert result.exit_code == 0
    assert "2 created" in result.output and "1 skipped" in result.output
    assert count(session, Offer) == 2


def test_unreadable_files_exit_2_naming_the_line(runner, tmp_path, session):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "ok"}\n{broken\n', encoding="utf-8")
    result = runner.invoke(args=["import", "organizations", str(bad)])
    assert result.exit_code == 2 and "line 2" in result.stderr
    odd = tmp_path / "data.xml"
    odd.write_text("<x/>", encoding="utf-8")
    assert runner.invoke(args=["import", "projects", str(odd)]).exit_code == 2


def test_import_updates_rows_with_a_known_ref(runner, session, tmp_path):
    org = f.organization(session, name="Alcaldía", kind="local_public", side="demand", country="CO")
    row = {
        "ref": "p-1",
        "organization_id": org.id,
        "title": "Parque del río",
        "description": "Parque lineal a lo largo del río.",
        "language": "es",
        "budget": 100,
        "currency": "USD",
    }
    source = tmp_path / "projects.json"
    source.write_text(json.dumps([row]), encoding="utf-8")
    assert runner.invoke(args=["import", "projects", str(source)]).exit_code == 0
    row["title"] = "Parque del río, fase 2"
    source.write_text(json.dumps([row]), encoding="utf-8")
    result = runner.invoke(args=["import", "projects", str(source)])
    assert "1 updated" in result.output
    assert session.scalar(sa.select(Project.title)) == "Parque del río, fase 2"
    assert count(session, Project) == 1


def test_export_labels_writes_tune_input(runner, session, tmp_path):
    result = runner.invoke(args=["export-labels", str(tmp_path / "labels")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: no accepted matches yet: there is nothing to learn from"
    )
    offer = f.offer(session)
    f.match(session, f.project(session), offer, status="accepted")
    result = runner.invoke(args=["export-labels", str(tmp_path / "labels")])
    assert result.exit_code == 0, result.output
    assert "1 offers and 1 projects with 1 accepted matches" in result.stderr
    assert result.stdout.startswith("python -m matcher tune --supply ")
    demand = (tmp_path / "labels" / "demand.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(demand[0])["true_supply_ids"] == [offer.id]
