"""The staff pages through the Flask test client: what a reviewer sees and what their forms do."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Alliance, AuditEvent, Match, Offer, User
from services import user_admin
from tests import factories
from tests.web.helpers import csrf_token, sign_in

EXPLANATION = {
    "terms": ["buses", "eléctricos"],
    "concepts": ["clean_transport"],
    "en": ["shared terms: buses, eléctricos", "a grant is what the project needs"],
    "es": ["términos en común: buses, eléctricos", "una donación es lo que el proyecto necesita"],
}


@pytest.fixture
def reviewer(session):
    return user_admin.create_user(
        session, "rev@example.org", "staff", "a-long-password", name="Rita Reviewer", language="en"
    )


@pytest.fixture
def signed_in(client, reviewer):
    assert sign_in(client, reviewer.email).status_code == 302
    return client


def _token(client, url="/staff/queue"):
    return csrf_token(client.get(url).get_data(as_text=True))


def _match(session, **kw):
    project = kw.pop("project", None) or factories.project(session)
    offer = kw.pop("offer", None) or factories.offer(session)
    kw.setdefault("explanation", EXPLANATION)
    kw.setdefault("components", {"text": 0.61, "modality": 1.0, "thematic": 1.0})
    return factories.match(session, project, offer, **kw)


def test_queue_rows_show_project_offer_ally_score_explanation_and_deadline(signed_in, session):
    offer = factories.offer(
        session, title="Clean buses fund", deadline=date.today() + timedelta(days=20)
    )
    match = _match(session, offer=offer, score=0.8125)
    html = signed_in.get("/staff/queue").get_data(as_text=True)
    row = html[html.index(f'id="match-{match.id}"') :]
    row = row[: row.index("</tr>")]
    assert match.project.title in row and "Clean buses fund" in row
    assert offer.organization.name in row and "Multilateral organisation" in row
    assert '<meter min="0" max="1"' in row and 'value="0.8125"' in row and "0.81" in row
    assert "shared terms: buses, eléctricos" in row and "a grant is what the project needs" in row
    assert "days left" in row
    assert 'src="/static/staff.js"' in html
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither


def test_queue_filters_from_the_query_string_and_shows_errors_beside_fields(signed_in, session):
    education = _match(
        session, project=factories.project(session, lines=["human_development"]), score=0.4
    )
    other = _match(session, score=0.9)
    html = signed_in.get("/staff/queue?line=human_development").get_data(as_text=True)
    assert f'id="match-{education.id}"' in html and f'id="match-{other.id}"' not in html
    response = signed_in.get("/staff/queue?min_score=5")
    assert response.status_code == 200
    assert re.search(r'class="errors"[^>]*>\s*<li>', response.get_data(as_text=True))


def test_queue_pages_by_keyset_without_losing_rows(signed_in, session):
    project = factories.project(session)
    made = [_match(session, project=project, score=0.5) for _ in range(53)]
    first = signed_in.get("/staff/queue").get_data(as_text=True)
    assert first.count('class="match-row"') == 50
    link = re.search(r'href="([^"]+after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = signed_in.get(link).get_data(as_text=True)
    ids = set(re.findall(r'data-match-id="(\d+)"', first + second))
    assert ids == {str(m.id) for m in made}
    assert "First page" in second and "js-next-page" not in second  # the last page


def test_accepting_from_the_queue_starts_an_alliance_and_offers_undo(signed_in, session, reviewer):
    match = _match(session, offer=factories.offer(session, currency="EUR"))
    response = signed_in.post(
        f"/staff/matches/{match.id}/decide",
        data={
            "csrf_token": _token(signed_in),
            "action": "accept",
            "next": "/staff/queue?status=all",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/staff/queue?status=all"
    stored = session.get(Match, match.id)
    session.refresh(stored)
    assert stored.status.value == "accepted" and stored.reviewer_id == reviewer.id
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    assert alliance.currency == "EUR" and float(alliance.usd_rate) == pytest.approx(1.08)
    page = signed_in.get("/staff/queue?status=all").get_data(as_text=True)
    assert f"Match {match.id} accepted: an alliance was started." in page
    assert 'action="/staff/matches/undo"' in page
    signed_in.post(
        "/staff/matches/undo", data={"csrf_token": csrf_token(page), "match_ids": str(match.id)}
    )
    session.refresh(stored)
    assert stored.status.value == "proposed"
    assert session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id)) is None


def test_rejecting_needs_a_reason_and_the_next_address_stays_on_this_site(signed_in, session):
    match = _match(session)
    token = _token(signed_in)
    response = signed_in.post(
        f"/staff/matches/{match.id}/decide",
        data={"csrf_token": token, "action": "reject", "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/staff/queue"
    assert "Choose a reason for the rejection." in signed_in.get("/staff/queue").get_data(
        as_text=True
    )
    signed_in.post(
        f"/staff/matches/{match.id}/decide",
        data={
            "csrf_token": token,
            "action": "reject",
            "reason": "deadline_too_close",
            "note": "closes in 3 days",
        },
    )
    stored = session.get(Match, match.id)
    session.refresh(stored)
    assert stored.status.value == "rejected"
    assert stored.decision_reason == "deadline_too_close: closes in 3 days"


def test_a_decision_without_csrf_token_is_refused(signed_in, session):
    match = _match(session)
    response = signed_in.post(f"/staff/matches/{match.id}/decide", data={"action": "accept"})
    assert response.status_code == 400
    session.refresh(match)
    assert session.get(Match, match.id).status.value == "proposed"


def test_bulk_reject_and_bulk_undo(signed_in, session):
    rows = [_match(session) for _ in range(3)]
    token = _token(signed_in)
    signed_in.post(
        "/staff/matches/bulk-reject",
        data={
            "csrf_token": token,
            "reason": "duplicate",
            "note": "",
            "match_ids": [str(m.id) for m in rows[:2]],
        },
    )
    statuses = dict(session.execute(sa.select(Match.id, Match.status)).all())
    assert [statuses[m.id].value for m in rows] == ["rejected", "rejected", "proposed"]
    page = signed_in.get("/staff/queue").get_data(as_text=True)
    assert "2 matches rejected." in page
    signed_in.post(
        "/staff/matches/undo",
        data={"csrf_token": token, "match_ids": [str(m.id) for m in rows[:2]]},
    )
    statuses = dict(session.execute(sa.select(Match.id, Match.status)).all())
    assert {statuses[m.id].value for m in rows} == {"proposed"}
    assert "2 decisions undone." in signed_in.get("/staff/queue").get_data(as_text=True)


def test_project_page_lists_ranked_offers_and_decisions(signed_in, session):
    project = factories.project(session, title="Comedores escolares")
    best = _match(session, project=project, score=0.9)
    worse = _match(session, project=project, score=0.3)
    signed_in.post(
        f"/staff/matches/{worse.id}/decide",
        data={"csrf_token": _token(signed_in), "action": "reject", "reason": "not_eligible"},
    )
    html = signed_in.get(f"/staff/projects/{project.id}").get_data(as_text=True)
    assert "Comedores escolares" in html
    assert html.index(f'id="match-{best.id}"') < html.index(f'id="match-{worse.id}"')
    decisions = html[html.index("Decisions so far") :]
    assert "Rita Reviewer" in decisions and "Not eligible" in decisions
    assert "Proposed" in decisions  # the previous status


def test_offer_page_lists_ranked_projects(signed_in, session):
    offer = factories.offer(session, title="Youth employment call")
    match = _match(session, offer=offer)
    html = signed_in.get(f"/staff/offers/{offer.id}").get_data(as_text=True)
    assert "Youth employment call" in html and f'id="match-{match.id}"' in html


def test_moderation_publishes_edits_and_rejects_submitted_offers(signed_in, session):
    waiting = factories.offer(session, title="Submitted by a partner", status="submitted")
    other = factories.offer(session, title="Another submission", status="submitted")
    factories.offer(session, title="Already public")
    html = signed_in.get("/staff/moderation").get_data(as_text=True)
    assert "Submitted by a partner" in html and "Already public" not in html
    token = csrf_token(html)
    response = signed_in.post(
        f"/staff/moderation/{waiting.id}/edit",
        data={
            "csrf_token": token,
            "title": "Clearer title",
            "description": "A better description.",
            "modalities": ["grant"],
            "lines": ["social_inclusion"],
            "amount_min": "1000",
            "amount_max": "10",
            "currency": "USD",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert "The maximum amount must be at least the minimum amount." in response.get_data(
        as_text=True
    )
    response = signed_in.post(
        f"/staff/moderation/{waiting.id}/edit",
        data={
            "csrf_token": token,
            "title": "Clearer title",
            "description": "A better description.",
            "modalities": ["grant"],
            "lines": ["social_inclusion"],
            "amount_min": "1000",
            "amount_max": "50000",
            "currency": "USD",
            "language": "en",
        },
    )
    assert response.status_code == 302
    signed_in.post(f"/staff/moderation/{waiting.id}/publish", data={"csrf_token": token})
    signed_in.post(
        f"/staff/moderation/{other.id}/reject",
        data={"csrf_token": token, "reason": "out_of_scope", "note": "Not for cities"},
    )
    session.expire_all()
    assert session.get(Offer, waiting.id).status.value == "published"
    assert session.get(Offer, waiting.id).title == "Clearer title"
    assert session.get(Offer, other.id).status.value == "rejected"
    page = signed_in.get(f"/staff/offers/{other.id}").get_data(as_text=True)
    assert "Outside the agency&#39;s scope" in page and "Not for cities" in page
    assert "No offer is waiting for moderation." in signed_in.get("/staff/moderation").get_data(
        as_text=True
    )


def test_alliance_board_edit_and_dashboard(signed_in, session):
    match = _match(
        session,
        project=factories.project(session, lines=["human_development"]),
        offer=factories.offer(session, currency="USD", modalities=["grant"]),
    )
    token = _token(signed_in)
    signed_in.post(
        f"/staff/matches/{match.id}/decide", data={"csrf_token": token, "action": "accept"}
    )
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    board = signed_in.get("/staff/alliances").get_data(as_text=True)
    negotiating = board[
        board.index('id="stage-negotiating"') : board.index('id="stage-formalised"')
    ]
    assert match.project.title in negotiating
    response = signed_in.post(
        f"/staff/alliances/{alliance.id}",
        data={
            "csrf_token": token,
            "stage": "formalised",
            "amount": "-3",
            "currency": "USD",
            "usd_rate": "1",
            "started_on": alliance.started_on.isoformat(),
        },
    )
    assert response.status_code == 400
    response = signed_in.post(
        f"/staff/alliances/{alliance.id}",
        data={
            "csrf_token": token,
            "stage": "formalised",
            "amount": "750000",
            "currency": "USD",
            "usd_rate": "1",
            "started_on": alliance.started_on.isoformat(),
        },
    )
    assert response.status_code == 302
    history = signed_in.get(f"/staff/alliances/{alliance.id}").get_data(as_text=True)
    assert "Rita Reviewer" in history and "Formalised" in history
    dashboard = signed_in.get("/staff/dashboard").get_data(as_text=True)
    assert "USD 750,000" in dashboard and "<svg" in dashboard
    rows = list(
        csv.reader(io.StringIO(signed_in.get("/staff/dashboard/line.csv").get_data(as_text=True)))
    )
    assert rows[0] == ["line", "label", "usd", "projects_impacted"]
    assert ["human_development", "Human development", "750000.00", "1"] in rows
    year = signed_in.get("/staff/dashboard/year.csv")
    assert year.mimetype == "text/csv" and "attachment" in year.headers["Content-Disposition"]
    assert [r[0] for r in csv.reader(io.StringIO(year.get_data(as_text=True)))][1] == "2008"


def test_pages_follow_the_users_language(signed_in, session, reviewer):
    offer = factories.offer(session, currency="COP", amount_min=1_000_000, amount_max=2_500_000)
    _match(session, offer=offer)
    english = signed_in.get(f"/staff/offers/{offer.id}").get_data(as_text=True)
    assert "Ranked projects" in english and "COP 2,500,000" in english
    signed_in.post("/language", data={"csrf_token": _token(signed_in), "language": "es"})
    stored = session.get(User, reviewer.id)
    session.refresh(stored)
    assert str(stored.language) == "es"
    spanish = signed_in.get(f"/staff/offers/{offer.id}").get_data(as_text=True)
    assert "Proyectos ordenados" in spanish and "COP 2.500.000" in spanish
    queue = signed_in.get("/staff/queue").get_data(as_text=True)
    assert "Cola de revisión" in queue and "términos en común" in queue
    assert "Rechazar seleccionadas" in queue and "0,50" in queue


def test_admin_creates_and_deactivates_a_user(client, session):
    user_admin.create_user(session, "boss@example.org", "admin", "a-long-password", language="en")
    sign_in(client, "boss@example.org")
    token = _token(client, "/staff/users")
    response = client.post(
        "/staff/users",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "name": "New Person",
            "role": "staff",
            "organization_id": "0",
            "language": "es",
            "password": "short",
        },
    )
    assert response.status_code == 400
    response = client.post(
        "/staff/users",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "name": "New Person",
            "role": "staff",
            "organization_id": "0",
            "language": "es",
            "password": "long-enough-password",
        },
    )
    assert response.status_code == 302
    person = user_admin.find_user(session, "new@example.org")
    assert person.role.value == "staff"
    client.post(
        f"/staff/users/{person.id}",
        data={
            "csrf_token": token,
            f"u{person.id}-role": "staff",
            f"u{person.id}-organization_id": "0",
        },
    )
    session.refresh(person)
    assert person.active is False  # the unticked box deactivates
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_type == "user")
        )
        == 2
    )
    html = client.get("/staff/users").get_data(as_text=True)
    assert "Deactivated" in html
