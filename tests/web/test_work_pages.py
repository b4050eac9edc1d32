"""Owners, notes threads and "my work" through the Flask test client and the API, on SQLite
and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Alliance, AuditEvent, Note, NoteMention
from services import clock, user_admin
from services.work import notes
from tests import factories
from tests.web.helpers import csrf_token, sign_in


@pytest.fixture
def ana(session):
    return user_admin.create_user(
        session, "ana.gomez@agency.gov.co", "staff", "a-long-password", name="Ana Gómez",
        language="en",
    )  # fmt: skip


@pytest.fixture
def luis(session):
    return user_admin.create_user(
        session, "luis@agency.gov.co", "staff", "a-long-password", name="Luis Pérez"
    )


@pytest.fixture
def signed_in(client, ana):
    assert sign_in(client, ana.email).status_code == 302
    return client


def _post(client, url, data, page):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_assigning_an_owner_on_the_project_page_is_audited(signed_in, session, ana, luis):
    project = factories.project(session)
    page = f"/staff/projects/{project.id}"
    html = signed_in.get(page).get_data(as_text=True)
    assert "Nobody follows this yet." in html and "Luis Pérez" in html
    answer = _post(signed_in, f"/staff/owners/project/{project.id}", {"owner_id": luis.id}, page)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(page)
    session.refresh(project)
    assert project.owner_id == luis.id
    html = signed_in.get(page).get_data(as_text=True)
    assert "Followed by Luis Pérez" in html
    assert "Owner changed" in html and "Owner: Luis Pérez" in html  # the project's history
    event = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "project", AuditEvent.entity_id == project.id
        )
    ).one()
    assert (event.action, event.user_id) == ("assign", ana.id)
    assert (event.before, event.after) == ({"owner_id": None}, {"owner_id": luis.id})
    # Reassigning to nobody is a second event; the same owner again records nothing.
    _post(signed_in, f"/staff/owners/project/{project.id}", {"owner_id": 0}, page)
    _post(signed_in, f"/staff/owners/project/{project.id}", {"owner_id": 0}, page)
    session.refresh(project)
    assert project.owner_id is None
    count = sa.select(sa.func.count()).where(AuditEvent.entity_type == "project")
    assert session.scalar(count) == 2


def test_an_owner_must_be_active_staff(signed_in, session, luis):
    partner_org = factories.organization(session)
    partner = user_admin.create_user(
        session, "p@ally.org", "partner", "a-long-password", organization_id=partner_org.id
    )
    match = factories.match(session, factories.project(session), factories.offer(session))
    page = f"/staff/matches/{match.id}"
    answer = _post(signed_in, f"/staff/owners/match/{match.id}", {"owner_id": partner.id}, page)
    assert answer.status_code == 302
    session.refresh(match)
    assert match.owner_id is None
    assert "Choose an active staff member." in signed_in.get(page).get_data(as_text=True)
    assert signed_in.post("/staff/owners/offer/1", data={}).status_code in (400, 404)


def test_the_api_assigns_and_reads_owners(client, session, luis):
    _user, raw = factories.token(session)
    match = factories.match(session, factories.project(session), factories.offer(session))
    headers = factories.auth(raw)
    answer = client.put(
        f"/api/v1/matches/{match.id}/owner", json={"owner_id": luis.id}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.get_json() == {
        "kind": "match", "id": match.id, "owner_id": luis.id, "owner_email": luis.email,
    }  # fmt: skip
    assert (
        client.get(f"/api/v1/matches/{match.id}/owner", headers=headers).get_json()["owner_id"]
        == luis.id
    )
    bad = client.put(f"/api/v1/matches/{match.id}/owner", json={"owner_id": 99999}, headers=headers)
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"owner_id": ["Choose an active staff member."]}
    missing = client.put(f"/api/v1/matches/{match.id}/owner", json={}, headers=headers)
    assert missing.status_code == 422 and "owner_id" in missing.get_json()["error"]["fields"]
    assert (
        client.put("/api/v1/offers/1/owner", json={"owner_id": None}, headers=headers).status_code
        == 404
    )
    assert (
        client.put(
            "/api/v1/matches/99999/owner", json={"owner_id": None}, headers=headers
        ).status_code
        == 404
    )
    org = factories.organization(session)
    _partner, partner_raw = factories.token(session, role="partner", organization_id=org.id)
    forbidden = client.put(
        f"/api/v1/matches/{match.id}/owner",
        json={"owner_id": None},
        headers=factories.auth(partner_raw),
    )
    assert forbidden.status_code == 403
    event = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "match", AuditEvent.action == "assign"
        )
    ).one()
    assert event.after == {"owner_id": luis.id}


def test_notes_are_escaped_linked_and_mention_a_colleague_once(
    signed_in, session, settings, ana, luis
):
    match = factories.match(session, factories.project(session), factories.offer(session))
    page = f"/staff/matches/{match.id}"
    body = "Ask @luis about <b>this</b>: https://example.org/call?id=1&x=2. Thanks @ana.gomez"
    answer = _post(signed_in, f"/staff/notes/match/{match.id}", {"body": body}, page)
    assert answer.status_code == 302
    note = session.scalars(sa.select(Note)).one()
    assert answer.headers["Location"].endswith(f"{page}#note-{note.id}")
    html = signed_in.get(page).get_data(as_text=True)
    assert "Mentioned by email: Luis Pérez." in html
    assert "Colleagues: @luis" in html and "@ana.gomez," not in html  # not herself
    assert "&lt;b&gt;this&lt;/b&gt;" in html and "<b>this</b>" not in html
    assert (
        '<a href="https://example.org/call?id=1&amp;x=2" rel="nofollow noopener noreferrer">'
        in html
    )
    # Luis is mentioned (the author is not told about her own mention), and told at once:
    # without a broker the task runs in-process, and mail goes to files.
    [mention] = session.scalars(sa.select(NoteMention)).all()
    assert (mention.user_id, mention.period, mention.status) == (luis.id, f"note-{note.id}", "sent")
    [sent] = list(settings.mail_dir.glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == luis.email
    assert message["Subject"] == "CoopMatch: Ana Gómez le mencionó en «" + (
        f"{match.project.title} · {match.offer.title}»"
    )
    assert message["Message-ID"] == f"<mention-{note.id}-{luis.id}@coopmatch.invalid>"
    assert f"http://127.0.0.1:5000/staff/matches/{match.id}#note-{note.id}" in message.get_content()
    created = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "note")).one()
    assert (created.action, created.after["body"]) == ("create", body)
    # Editing keeps one email per person and tells a newly mentioned colleague.
    carla = user_admin.create_user(session, "carla@agency.gov.co", "staff", "a-long-password")
    edited = body + " and @carla."
    _post(signed_in, f"/staff/notes/{note.id}/edit", {"body": edited}, page)
    session.refresh(note)
    assert note.body == edited and note.edited_at is not None
    people = session.scalars(sa.select(NoteMention.user_id).order_by(NoteMention.user_id)).all()
    assert people == sorted([luis.id, carla.id])
    assert len(list(settings.mail_dir.glob("*.eml"))) == 2  # Luis is not told twice
    events = session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_type == "note").order_by(AuditEvent.id)
    ).all()
    assert events == ["create", "edit"]
    assert "edited" in signed_in.get(page).get_data(as_text=True)


def test_a_note_is_editable_by_its_author_for_15_minutes_only(client, session, ana, luis):
    project = factories.project(session)
    note = notes.add(session, "project", project.id, ana.id, "first words")
    assert sign_in(client, luis.email).status_code == 302
    page = f"/staff/projects/{project.id}"
    html = client.get(page).get_data(as_text=True)
    assert "first words" in html and f"/staff/notes/{note.id}/edit" not in html
    assert _post(client, f"/staff/notes/{note.id}/edit", {"body": "mine"}, page).status_code == 403
    later = clock.now() + timedelta(minutes=16)
    with pytest.raises(Exception) as refused:
        notes.edit(session, note.id, ana.id, "too late", now=later)
    assert refused.value.fields == {"body": ["This note can no longer be edited."]}
    session.refresh(note)
    assert note.body == "first words"
    assert notes.editable(note, ana.id, clock.now())
    assert not notes.editable(note, ana.id, later)


def test_an_empty_or_long_note_is_refused_beside_nothing_saved(signed_in, session):
    project = factories.project(session)
    page = f"/staff/projects/{project.id}"
    _post(signed_in, f"/staff/notes/project/{project.id}", {"body": "   "}, page)
    _post(signed_in, f"/staff/notes/project/{project.id}", {"body": "x" * 5001}, page)
    assert session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    assert signed_in.post("/staff/notes/project/99999", data={
        "body": "x", "csrf_token": csrf_token(signed_in.get(page).get_data(as_text=True))
    }).status_code == 404  # fmt: skip


def test_my_work_lists_my_matches_by_nearest_deadline_and_my_alliances_next_dates(
    signed_in, session, ana, luis
):
    today = date.today()
    project = factories.project(session, owner_id=ana.id, title="Mi proyecto de agua")
    factories.project(session, owner_id=luis.id, title="El proyecto de Luis")

    def owned(days, status, owner=ana):
        offer = factories.offer(
            session, deadline=today + timedelta(days=days), title=f"Call {days}"
        )
        return factories.match(session, project, offer, status=status, owner_id=owner.id)

    late = owned(40, "shortlisted")
    soon = owned(5, "accepted")
    owned(3, "proposed")  # not followed yet
    owned(2, "shortlisted", owner=luis)
    alliance = Alliance(
        match_id=soon.id, started_on=today - timedelta(days=3),
        formalised_on=today + timedelta(days=9), currency="USD", owner_id=ana.id,
    )  # fmt: skip
    session.add(alliance)
    session.commit()
    html = signed_in.get("/staff/mine").get_data(as_text=True)
    assert 'href="/staff/mine"' in html  # in the navigation bar
    assert "Mi proyecto de agua" in html and "El proyecto de Luis" not in html
    assert html.index(f'id="mine-match-{soon.id}"') < html.index(f'id="mine-match-{late.id}"')
    assert "Call 3" not in html and "Call 2" not in html
    row = html[html.index(f'id="mine-alliance-{alliance.id}"') :]
    assert "Formalised" in row[: row.index("</tr>")]
    assert "My work" in html


def test_my_work_is_in_the_reader_language(client, session, luis):
    assert sign_in(client, luis.email).status_code == 302  # Luis reads Spanish
    html = client.get("/staff/mine").get_data(as_text=True)
    assert "Mi trabajo" in html and "No tiene proyectos a su cargo." in html


def test_the_match_page_and_work_links_open(signed_in, session, ana):
    from services.work import links, owners

    match = factories.match(session, factories.project(session), factories.offer(session))
    alliance = Alliance(match_id=match.id, started_on=date.today(), currency="USD")
    session.add(alliance)
    session.commit()
    for path, item_id in (
        (links.PROJECT, match.project_id),
        (links.MATCH, match.id),
        (links.ALLIANCE, alliance.id),
        (links.MINE, None),
    ):
        answer = signed_in.get(path.format(item_id=item_id))
        assert answer.status_code == 200, path
    assert signed_in.get("/staff/matches/99999").status_code == 404
    owners.assign(session, "match", match.id, ana.id, ana.id)
    html = signed_in.get(f"/staff/matches/{match.id}").get_data(as_text=True)
    assert "Owner changed" in html and "Owner: Ana Gómez" in html  # the history names her
