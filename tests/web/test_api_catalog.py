"""The JSON API for organisations, offers and projects, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Offer, Organization
from services import api_tokens, credentials
from tests import factories as f


@pytest.fixture
def staff(session):
    return f.token(session, "staff")[1]


@pytest.fixture
def ally(session):
    return f.organization(session, name="UN-Habitat", kind="multilateral")


def offer_body(org_id: int, **kw) -> dict:
    body = {
        "organization_id": org_id,
        "title": "Resilient neighbourhoods fund",
        "description": "Grants for landslide risk reduction in hillside settlements.",
        "modalities": ["grant"],
        "lines": ["sustainable_territory"],
        "sdgs": [11, 13],
        "amount_min": 50000,
        "amount_max": 250000,
        "currency": "USD",
        "eligible_kinds": ["local_public"],
        "eligible_countries": ["CO"],
        "opens_on": "2026-01-01",
        "deadline": "2027-03-31",
        "language": "en",
    }
    body.update(kw)
    return body


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_no_token_is_401_with_the_error_shape(client):
    response = client.get("/api/v1/offers")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["status"] == 401 and error["code"] == "unauthorized"
    assert "Bearer" in error["message"]


def test_unknown_and_revoked_tokens_are_refused(client, session):
    user, raw = f.token(session, "staff")
    assert client.get("/api/v1/offers", headers=f.auth("cm_wrong")).status_code == 401
    assert client.get("/api/v1/offers", headers=f.auth(raw)).status_code == 200
    token = api_tokens.list_tokens(session, user.email)[0]
    api_tokens.revoke_token(session, token.id)
    assert client.get("/api/v1/offers", headers=f.auth(raw)).status_code == 401


def test_tokens_are_stored_hashed(session):
    user, raw = f.token(session, "staff")
    stored = api_tokens.list_tokens(session, user.email)[0]
    assert raw not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == credentials.hash_token(raw)


def test_create_read_update_delete_offer(client, session, staff, ally):
    created = client.post("/api/v1/offers", json=offer_body(ally.id), headers=f.auth(staff))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/offers/{body['id']}")
    assert body["organization"]["name"] == "UN-Habitat"
    assert body["amount_max"] == 250000 and body["sdgs"] == [11, 13]
    url = f"/api/v1/offers/{body['id']}"
    assert client.get(url, headers=f.auth(staff)).get_json()["title"] == body["title"]
    patched = client.patch(url, json={"title": "Resilient hillsides fund"}, headers=f.auth(staff))
    assert patched.status_code == 200 and patched.get_json()["title"] == "Resilient hillsides fund"
    replaced = client.put(url, json=offer_body(ally.id, title="Put title"), headers=f.auth(staff))
    assert replaced.status_code == 200 and replaced.get_json()["title"] == "Put title"
    assert client.delete(url, headers=f.auth(staff)).status_code == 204
    assert client.get(url, headers=f.auth(staff)).status_code == 404


def test_create_project_and_organization(client, staff):
    org = client.post(
        "/api/v1/organizations",
        headers=f.auth(staff),
        json={
            "name": "Secretaría de Movilidad",
            "kind": "local_public",
            "side": "demand",
            "country": "CO",
        },
    )
    assert org.status_code == 201, org.get_json()
    project = client.post(
        "/api/v1/projects",
        headers=f.auth(staff),
        json={
            "organization_id": org.get_json()["id"],
            "title": "Ciclorrutas en ladera",
            "description": "Red de ciclorrutas seguras para las comunas de ladera.",
            "language": "es",
            "lines": ["sustainable_territory"],
            "modalities": ["grant"],
            "budget": 2_000_000,
            "cofinancing": 500_000,
            "currency": "USD",
        },
    )
    assert project.status_code == 201, project.get_json()
    assert project.get_json()["remaining_need"] == 1_500_000


BAD_OFFERS = [
    ("missing fields", lambda o: {"organization_id": o}, {"title", "description", "language"}),
    (
        "wrong types",
        lambda o: offer_body(o, sdgs="eleven", amount_min="lots"),
        {"sdgs", "amount_min"},
    ),
    ("negative amount", lambda o: offer_body(o, amount_min=-5), {"amount_min"}),
    ("min above max", lambda o: offer_body(o, amount_min=900, amount_max=100), {"amount_max"}),
    (
        "deadline before opening",
        lambda o: offer_body(o, opens_on="2027-05-01", deadline="2027-01-01"),
        {"deadline"},
    ),
    (
        "unknown enum",
        lambda o: offer_body(o, modalities=["bitcoin"], currency="GBP"),
        {"modalities", "currency"},
    ),
    ("huge description", lambda o: offer_body(o, description="x" * 1_000_000), {"description"}),
    ("unknown field", lambda o: offer_body(o, colour="blue"), {"colour"}),
    ("unknown organisation", lambda o: offer_body(999_999), {"organization_id"}),
    ("sdg out of range", lambda o: offer_body(o, sdgs=[18]), {"sdgs"}),
    ("amount without currency", lambda o: offer_body(o, currency=None), {"currency"}),
]


@pytest.mark.parametrize("case, make, fields", BAD_OFFERS, ids=[c[0] for c in BAD_OFFERS])
def test_bad_offers_get_422_per_field_and_store_nothing(
    client, session, staff, ally, case, make, fields
):
    before = count(session, Offer)
    response = client.post("/api/v1/offers", json=make(ally.id), headers=f.auth(staff))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert fields <= set(error["fields"]), error["fields"]
    assert count(session, Offer) == before


def test_patch_checks_rules_on_the_merged_row(client, session, staff, ally):
    item = f.offer(session, ally, amount_min=100, amount_max=200)
    response = client.patch(
        f"/api/v1/offers/{item.id}", json={"amount_min": 500}, headers=f.auth(staff)
    )
    assert response.status_code == 422
    assert "amount_max" in response.get_json()["error"]["fields"]
    session.refresh(item)
    assert item.amount_min == 100


def test_malformed_json_is_a_clear_error(client, session, staff):
    before = count(session, Offer)
    response = client.post(
        "/api/v1/offers",
        data="{not json",
        headers={**f.auth(staff), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.get_json()["error"]["message"]
    assert count(session, Offer) == before


def test_body_over_the_limit_is_413(client, staff, ally):
    body = offer_body(ally.id, description="y" * (3 * 1024 * 1024))
    response = client.post("/api/v1/offers", json=body, headers=f.auth(staff))
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]["message"]


def test_unknown_ids_are_404(client, staff):
    for path in ("offers", "projects", "organizations"):
        response = client.get(f"/api/v1/{path}/424242", headers=f.auth(staff))
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_duplicate_unique_key_is_409(client, session, staff, ally):
    body = {"name": ally.name, "kind": "foundation", "side": "supply", "country": "US"}
    response = client.post("/api/v1/organizations", json=body, headers=f.auth(staff))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert count(session, Organization) == 1


def test_organization_with_offers_cannot_be_deleted(client, session, staff, ally):
    f.offer(session, ally)
    response = client.delete(f"/api/v1/organizations/{ally.id}", headers=f.auth(staff))
    assert response.status_code == 409
    assert "offer" in response.get_json()["error"]["message"]


def test_list_filters(client, session, staff):
    water = f.organization(session, name="Water Foundation", kind="foundation")
    bank = f.organization(session, name="Regional Bank", kind="multilateral")
    soon = date.today() + timedelta(days=10)
    late = date.today() + timedelta(days=200)
    a = f.offer(
        session,
        water,
        title="Drinking water for schools",
        lines=["human_development"],
        modalities=["grant"],
        deadline=soon,
    )
    b = f.offer(
        session,
        bank,
        title="Credit line for metro cable",
        modalities=["loan"],
        lines=["sustainable_territory"],
        deadline=late,
        amount_max=9_000_000,
    )
    c = f.offer(session, bank, title="Closed call", status="closed", deadline=late)

    def ids(**params):
        response = client.get("/api/v1/offers", query_string=params, headers=f.auth(staff))
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids() == [a.id, b.id, c.id]
    assert ids(line="human_development") == [a.id]
    assert ids(modality="loan") == [b.id]
    assert ids(status="closed") == [c.id]
    assert ids(kind="foundation") == [a.id]
    assert ids(q="WATER") == [a.id]
    assert ids(q="100%") == []
    assert ids(deadline_to=(soon + timedelta(days=1)).isoformat()) == [a.id]
    assert ids(deadline_from=(soon + timedelta(days=1)).isoformat()) == [b.id, c.id]
    assert ids(sort="-deadline")[-1] == a.id


def test_pagination_is_stable_and_counted(client, session, staff, ally):
    made = [f.offer(session, ally).id for _ in range(7)]
    seen = []
    for page in (1, 2, 3):
        body = client.get(
            "/api/v1/offers", query_string={"page": page, "per_page": 3}, headers=f.auth(staff)
        ).get_json()
        assert body["total"] == 7 and body["pages"] == 3 and body["per_page"] == 3
        seen += [item["id"] for item in body["items"]]
    assert seen == made


def test_bad_list_parameters_are_422(client, staff):
    for params, field in (
        ({"per_page": 1000}, "per_page"),
        ({"page": 0}, "page"),
        ({"line": "space"}, "line"),
        ({"sort": "colour"}, "sort"),
        ({"deadline_from": "soon"}, "deadline_from"),
    ):
        response = client.get("/api/v1/offers", query_string=params, headers=f.auth(staff))
        assert response.status_code == 422, params
        assert field in response.get_json()["error"]["fields"]


def test_partner_sees_only_its_own_offers(client, session, ally):
    other = f.organization(session, name="Other Ally", kind="foundation")
    mine = f.offer(session, ally)
    theirs = f.offer(session, other)
    _, raw = f.token(session, "partner", organization_id=ally.id)
    listed = client.get("/api/v1/offers", headers=f.auth(raw)).get_json()
    assert [item["id"] for item in listed["items"]] == [mine.id]
    assert client.get(f"/api/v1/offers/{theirs.id}", headers=f.auth(raw)).status_code == 404
    assert client.delete(f"/api/v1/offers/{theirs.id}", headers=f.auth(raw)).status_code == 404
    assert client.get(f"/api/v1/offers/{mine.id}", headers=f.auth(raw)).status_code == 200


def test_partner_offer_is_submitted_for_its_own_organisation(client, session, ally):
    other = f.organization(session, name="Someone Else", kind="foundation")
    _, raw = f.token(session, "partner", organization_id=ally.id)
    response = client.post(
        "/api/v1/offers", json=offer_body(other.id, status="published"), headers=f.auth(raw)
    )
    assert response.status_code == 422  # partners cannot publish
    response = client.post("/api/v1/offers", json=offer_body(other.id), headers=f.auth(raw))
    assert response.status_code == 201
    body = response.get_json()
    assert body["organization_id"] == ally.id
    assert body["status"] == "submitted" and body["source"] == "api"


def test_partner_gets_403_on_staff_resources(client, session, ally):
    _, raw = f.token(session, "partner", organization_id=ally.id)
    for path in ("/api/v1/projects", "/api/v1/organizations"):
        response = client.get(path, headers=f.auth(raw))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"]


def test_healthz_tells_the_public_nothing_but_ok_flags(client, session):
    """Finding 10: the public answer used to carry the dialect, driver errors and addresses."""
    from tests.web.helpers import sign_in

    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": {"ok": True}, "broker": {"ok": True}}
    staff, _ = f.token(session, "staff")
    sign_in(client, staff.email)
    detailed = client.get("/healthz").get_json()
    assert detailed["database"]["detail"] in ("sqlite", "postgresql")
