"""The /staff/feeds page, the ally page and /api/v1/feeds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AllyActivity, Feed, FeedRun, Offer, OrgMapping
from models.enums import MappingState
from services.ingest import runs
from tests import factories as f
from tests.feed_helpers import HORIZON, hand_entered_copy
from tests.unit.feeds.feed_server import FeedServer
from tests.web.helpers import post_form, sign_in


@pytest.fixture
def server(shared_feeds):
    running = FeedServer(shared_feeds).start()
    yield running
    running.stop()


FORM = {
    "name": "Sida in Latin America",
    "kind": "iati",
    "url": "http://127.0.0.1:9/x.xml",
    "query": "",
    "api_key_env": "",
    "interval_minutes": "720",
    "countries": "bo, co",
    "keywords": "",
    "programmes": "",
    "enabled": "y",
}


def test_an_admin_configures_a_feed_with_errors_beside_the_fields(client, session):
    admin, _ = f.token(session, "admin")
    sign_in(client, admin.email)
    bad = post_form(
        client,
        "/staff/feeds",
        {**FORM, "query": "[1, 2]", "api_key_env": "MY_SECRET_KEY", "url": "ftp://x"},
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Escriba un objeto JSON." in html  # Spanish by default
    assert session.scalar(sa.select(sa.func.count()).select_from(Feed)) == 0
    key_error = post_form(client, "/staff/feeds", {**FORM, "api_key_env": "MY_SECRET_KEY"})
    assert key_error.status_code == 400 and "COOPMATCH_FEED_KEY_" in key_error.get_data(
        as_text=True
    )
    good = post_form(client, "/staff/feeds", FORM)
    assert good.status_code == 302
    feed = session.scalars(sa.select(Feed)).one()
    assert (feed.countries, feed.interval_minutes, feed.publish_at_once) == (
        ["BO", "CO"],
        720,
        False,
    )
    edited = post_form(client, f"/staff/feeds/{feed.id}", {**FORM, "publish_at_once": "y"})
    assert edited.status_code == 302
    session.refresh(feed)
    assert feed.publish_at_once


def test_staff_see_runs_and_run_a_feed_but_only_admins_configure(client, session, server):
    staff, _ = f.token(session, "staff")
    feed = Feed(name="iaf", kind="iati", url=f"{server.url}/files/iati/iaf_colombia.xml", query={})
    session.add(feed)
    session.commit()
    sign_in(client, staff.email)
    page = client.get("/staff/feeds")
    assert page.status_code == 200 and "Nueva fuente" not in page.get_data(as_text=True)
    assert post_form(client, "/staff/feeds", FORM, page="/staff/feeds").status_code == 403
    assert client.get(f"/staff/feeds/{feed.id}").status_code == 403
    ran = post_form(client, f"/staff/feeds/{feed.id}/run", {}, page="/staff/feeds")
    assert ran.status_code == 302  # the task ran in-process (embedded default)
    run = session.scalars(sa.select(FeedRun)).one()
    assert (run.state, run.new, run.trigger) == ("succeeded", 387, "manual")
    html = client.get("/staff/feeds").get_data(as_text=True)
    assert f'id="run-{run.id}"' in html and "<td>387</td>" in html and "terminada" in html
    assert "Fuentes externas" in html and "Referencias de organizaciones por confirmar" in html


def test_a_failed_run_shows_its_first_error(client, session, server):
    staff, _ = f.token(session, "staff")
    feed = Feed(name="gone", kind="eu_ft", url=f"{server.url}/status/404", query={"method": "GET"})
    session.add(feed)
    session.commit()
    sign_in(client, staff.email)
    post_form(client, f"/staff/feeds/{feed.id}/run", {}, page="/staff/feeds")
    run = session.scalars(sa.select(FeedRun)).one()
    assert run.state == "failed" and "404" in run.first_error
    html = client.get("/staff/feeds").get_data(as_text=True)
    assert f'id="run-{run.id}"' in html and "fallida" in html
    assert run.first_error.split(":")[0] in html


def test_staff_confirm_a_mapping_and_the_ally_page_shows_active_here(
    client, session, settings, shared_feeds
):
    staff, _ = f.token(session, "staff")
    runs.import_file(session, "iati", shared_feeds / "iati/iaf_colombia.xml", settings)
    iaf = f.organization(session, name="Fundación Interamericana", kind="bilateral", country="US")
    mapping = session.scalar(sa.select(OrgMapping).where(OrgMapping.ref == "18"))
    sign_in(client, staff.email)
    response = post_form(
        client,
        f"/staff/feeds/mappings/{mapping.id}",
        {f"m{mapping.id}-organization_id": str(iaf.id), f"m{mapping.id}-decision": "confirm"},
        page="/staff/feeds",
    )
    assert response.status_code == 302
    session.refresh(mapping)
    assert (mapping.state, mapping.organization_id) == (MappingState.CONFIRMED, iaf.id)
    page = client.get(f"/staff/allies/{iaf.id}").get_data(as_text=True)
    # The person's language (Spanish) decides.
    assert "Activo aquí" in page and "387 actividades leídas de las fuentes" in page
    first = session.scalars(sa.select(AllyActivity).order_by(AllyActivity.start.desc())).first()
    assert first.iati_identifier in page


def test_staff_merge_a_flagged_duplicate(client, session, settings, shared_feeds):
    staff, _ = f.token(session, "staff")
    manual = hand_entered_copy(session, shared_feeds)
    runs.import_file(
        session,
        "eu_ft",
        shared_feeds / HORIZON,
        settings,
    )
    new = session.scalar(sa.select(Offer).where(Offer.source == "eu_ft"))
    assert new.duplicate_of_id == manual.id
    sign_in(client, staff.email)
    html = client.get("/staff/feeds").get_data(as_text=True)
    assert f"posible duplicado de #{manual.id}" in html
    assert (
        post_form(client, f"/staff/offers/{new.id}/merge", {}, page="/staff/feeds").status_code
        == 302
    )
    session.refresh(manual)
    session.refresh(new)
    assert manual.status == "withdrawn" and new.duplicate_of_id is None
    assert new.status == "published"  # the hand-entered copy had been published


def test_the_api_configures_feeds_for_admins_and_shows_runs(client, session, server):
    _, admin_token = f.token(session, "admin")
    _, staff_token = f.token(session, "staff")
    body = {
        "name": "wb",
        "kind": "world_bank",
        "url": f"{server.url}/files/world_bank/world_bank_projects.json",
    }
    assert client.post("/api/v1/feeds", json=body, headers=f.auth(staff_token)).status_code == 403
    bad = client.post(
        "/api/v1/feeds", json={**body, "api_key_env": "KEY"}, headers=f.auth(admin_token)
    )
    assert bad.status_code == 422 and "api_key_env" in bad.get_json()["error"]["fields"]
    created = client.post("/api/v1/feeds", json=body, headers=f.auth(admin_token))
    assert created.status_code == 201, created.get_json()
    feed_id = created.get_json()["id"]
    queued = client.post(f"/api/v1/feeds/{feed_id}/run", headers=f.auth(staff_token))
    assert queued.status_code == 202
    listed = client.get("/api/v1/feeds", headers=f.auth(staff_token)).get_json()["items"]
    assert listed[0]["last_run"]["new"] == 500 and listed[0]["last_run"]["state"] == "succeeded"
    runs_body = client.get(f"/api/v1/feeds/{feed_id}/runs", headers=f.auth(staff_token)).get_json()
    assert runs_body["items"][0]["duration_ms"] >= 0
    mappings = client.get("/api/v1/feeds/mappings?state=suggested", headers=f.auth(staff_token))
    refs = {m["ref"]: m for m in mappings.get_json()["items"]}
    assert "44002" in refs  # IDA
    ida = f.organization(session, name="IDA", kind="multilateral")
    decided = client.post(
        f"/api/v1/feeds/mappings/{refs['44002']['id']}",
        json={"decision": "confirm", "organization_id": ida.id},
        headers=f.auth(staff_token),
    )
    assert decided.status_code == 200 and decided.get_json()["state"] == "confirmed"
    here = client.get(f"/api/v1/organizations/{ida.id}/active-here", headers=f.auth(staff_token))
    assert here.status_code == 200 and here.get_json()["country"] == "CO"
    assert all(isinstance(a["title"], str) for a in here.get_json()["items"])
    patched = client.patch(
        f"/api/v1/feeds/{feed_id}", json={"enabled": False}, headers=f.auth(admin_token)
    )
    assert patched.status_code == 200 and patched.get_json()["enabled"] is False
    missing = client.get("/api/v1/feeds/9999", headers=f.auth(staff_token))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"/feeds", "/feeds/{feed_id}/runs", "/feeds/mappings/{mapping_id}"} <= set(doc["paths"])
    assert "FeedIn" in doc["components"]["schemas"]
