"""Matches and jobs over the API, with in-process tasks (the embedded default)."""

from __future__ import annotations

import pytest

from tests import factories as f


@pytest.fixture
def settings(tmp_path, database_url):
    import config

    return config.Settings(
        instance_path=tmp_path / "instance", database_url=database_url, match_min_score=0.0
    )


@pytest.fixture
def staff(session):
    return f.token(session, "staff")[1]


def _water_project(session):
    city = f.organization(
        session, name="Alcaldía", kind="local_public", side="demand", country="CO"
    )
    return f.project(
        session,
        city,
        title="Agua potable en ladera",
        description="Acueducto y saneamiento para barrios de ladera.",
    )


def test_new_offer_is_scored_and_its_matches_listed_best_first(client, session, staff):
    project = _water_project(session)
    ally = f.organization(session, name="Water Fund", kind="foundation")
    body = {
        "organization_id": ally.id,
        "title": "Drinking water grants",
        "description": "Grants for drinking water supply and sanitation in hillside "
        "neighbourhoods.",
        "language": "en",
        "modalities": ["grant"],
        "lines": ["sustainable_territory"],
        "status": "published",
    }
    created = client.post("/api/v1/offers", json=body, headers=f.auth(staff))
    assert created.status_code == 201
    offer_id = created.get_json()["id"]
    offer = client.get(f"/api/v1/offers/{offer_id}", headers=f.auth(staff)).get_json()
    assert offer["scoring"] == "scored"
    listed = client.get(
        "/api/v1/matches", query_string={"offer_id": offer_id}, headers=f.auth(staff)
    ).get_json()
    assert listed["total"] >= 1
    first = listed["items"][0]
    assert first["project"]["id"] == project.id and first["status"] == "proposed"
    assert set(first["components"]) >= {"text", "modality"}
    assert first["explanation"]["es"]
    scores = [m["score"] for m in listed["items"]]
    assert scores == sorted(scores, reverse=True)


def test_matches_need_exactly_one_item(client, staff):
    assert client.get("/api/v1/matches", headers=f.auth(staff)).status_code == 422
    response = client.get(
        "/api/v1/matches", query_string={"offer_id": 1, "project_id": 2}, headers=f.auth(staff)
    )
    assert response.status_code == 422


def test_partner_sees_matches_of_its_own_offers_only(client, session):
    _water_project(session)
    mine_org = f.organization(session, name="Mine")
    other_org = f.organization(session, name="Other")
    mine, theirs = f.offer(session, mine_org), f.offer(session, other_org)
    _, raw = f.token(session, "partner", organization_id=mine_org.id)
    ok = client.get("/api/v1/matches", query_string={"offer_id": mine.id}, headers=f.auth(raw))
    assert ok.status_code == 200
    hidden = client.get(
        "/api/v1/matches", query_string={"offer_id": theirs.id}, headers=f.auth(raw)
    )
    assert hidden.status_code == 404
    by_project = client.get("/api/v1/matches", query_string={"project_id": 1}, headers=f.auth(raw))
    assert by_project.status_code == 403


def test_rebuild_job_reports_progress(client, session, staff, settings):
    _water_project(session)
    f.offer(session, title="Water and sanitation fund")
    response = client.post("/api/v1/jobs/rebuild", headers=f.auth(staff))
    assert response.status_code == 202
    job = client.get(response.headers["Location"], headers=f.auth(staff)).get_json()
    assert job["kind"] == "rebuild" and job["status"] == "done"
    assert job["done"] == job["total"] == 1 and job["progress"] == 1.0
    assert client.get("/api/v1/jobs/nope", headers=f.auth(staff)).status_code == 404
    partner_org = f.organization(session, name="P")
    _, raw = f.token(session, "partner", organization_id=partner_org.id)
    assert client.post("/api/v1/jobs/rebuild", headers=f.auth(raw)).status_code == 403
