"""Who may open which staff page: signed-out people, partners, staff and administrators."""

from __future__ import annotations

import pytest

from services import user_admin
from tests import factories
from tests.web.helpers import csrf_token, sign_in

PAGES = [
    "/staff/queue",
    "/staff/projects/{project}",
    "/staff/offers/{offer}",
    "/staff/moderation",
    "/staff/moderation/{offer}/edit",
    "/staff/alliances",
    "/staff/dashboard",
    "/staff/dashboard/year.csv",
    "/staff/quality",
    "/staff/quality/band.csv",
    "/staff/users",
]
ACTIONS = [
    "/staff/matches/{match}/decide",
    "/staff/matches/bulk-reject",
    "/staff/matches/undo",
    "/staff/moderation/{offer}/publish",
    "/staff/moderation/{offer}/reject",
    "/staff/users/{user}",
    "/staff/users/{user}/unlock",
]


@pytest.fixture
def rows(session):
    org = factories.organization(session)
    offer = factories.offer(session, org=org)
    project = factories.project(session)
    match = factories.match(session, project, offer)
    staff = user_admin.create_user(session, "staff@example.org", "staff", "a-long-password")
    user_admin.create_user(session, "admin@example.org", "admin", "a-long-password")
    user_admin.create_user(
        session, "ally@example.org", "partner", "a-long-password", organization_id=org.id
    )
    return {"offer": offer.id, "project": project.id, "match": match.id, "user": staff.id}


def _urls(templates, rows):
    return [t.format(**rows) for t in templates]


def test_signed_out_people_are_sent_to_the_sign_in_page(client, rows):
    for url in _urls(PAGES, rows):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for url in _urls(ACTIONS, rows):
        response = client.post(url, data={"csrf_token": token, "action": "accept"})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_partners_get_403_on_every_staff_page_and_action(client, rows):
    assert sign_in(client, "ally@example.org").status_code == 302
    for url in _urls(PAGES, rows):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    for url in _urls(ACTIONS, rows):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_staff_see_the_workspace_but_not_user_management(client, rows):
    sign_in(client, "staff@example.org")
    for url in _urls(PAGES, rows):
        expected = 403 if url.startswith("/staff/users") else 200
        assert client.get(url).status_code == expected, url
    token = csrf_token(client.get("/staff/queue").get_data(as_text=True))
    response = client.post(
        f"/staff/users/{rows['user']}", data={"csrf_token": token, f"u{rows['user']}-role": "admin"}
    )
    assert response.status_code == 403
    nav = client.get("/staff/queue").get_data(as_text=True)
    assert 'href="/staff/users"' not in nav and 'href="/staff/dashboard"' in nav


def test_admins_manage_users(client, rows):
    sign_in(client, "admin@example.org")
    page = client.get("/staff/users")
    assert page.status_code == 200 and "staff@example.org" in page.get_data(as_text=True)
    assert 'href="/staff/users"' in page.get_data(as_text=True)


def test_home_sends_staff_to_the_queue(client, rows):
    sign_in(client, "staff@example.org")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/queue")


def test_unknown_items_are_404_pages(client, rows):
    sign_in(client, "staff@example.org")
    for url in (
        "/staff/projects/999999",
        "/staff/offers/999999",
        "/staff/alliances/999999",
        "/staff/dashboard/nonsense.csv",
        "/staff/quality/nonsense.csv",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "text/html" in response.content_type
