"""The moderation edit form takes every field the service takes; the queue says how many
matches its filter holds."""

from __future__ import annotations

from datetime import date

import pytest

from models import Offer
from models.enums import MatchStatus
from services import moderation, reviews, user_admin
from tests import factories
from tests.web.helpers import csrf_token, sign_in


@pytest.fixture
def signed_in(client, session):
    user_admin.create_user(session, "mod@example.org", "staff", "a-long-password", language="en")
    assert sign_in(client, "mod@example.org").status_code == 302
    return client


def test_the_edit_form_has_a_field_for_everything_the_service_edits(signed_in, session):
    offer = factories.offer(session, status="submitted", eligible_countries=["CO", "ZA"])
    html = signed_in.get(f"/staff/moderation/{offer.id}/edit").get_data(as_text=True)
    for name in moderation.EDITABLE:
        assert f'name="{name}"' in html, name
    # A code the country list does not name stays chosen, so saving does not drop it.
    assert '<option selected value="ZA">ZA</option>' in html


def test_the_edit_form_saves_sdgs_eligibility_amounts_dates_and_privacy(signed_in, session):
    offer = factories.offer(session, status="submitted", language="fr")
    url = f"/staff/moderation/{offer.id}/edit"
    token = csrf_token(signed_in.get(url).get_data(as_text=True))
    response = signed_in.post(
        url,
        data={
            "csrf_token": token,
            "title": "Fonds pour l'eau",
            "description": "Subventions pour l'eau potable des quartiers.",
            "modalities": ["grant", "technical_assistance"],
            "lines": ["sustainable_territory"],
            "sdgs": ["6", "11"],
            "eligible_kinds": ["local_public", "ngo"],
            "eligible_countries": ["CO", "PE"],
            "amount_min": "20000",
            "amount_max": "90000",
            "currency": "EUR",
            "opens_on": "2027-01-10",
            "deadline": "2027-05-31",
            "language": "fr",
            "contact_email": "eau@ally.example",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(Offer, offer.id)
    assert saved.sdgs == [6, 11] and saved.eligible_kinds == ["local_public", "ngo"]
    assert saved.eligible_countries == ["CO", "PE"] and saved.language == "fr"
    assert (float(saved.amount_min), float(saved.amount_max), saved.currency) == (
        20000,
        90000,
        "EUR",
    )
    assert (saved.opens_on, saved.deadline) == (date(2027, 1, 10), date(2027, 5, 31))
    assert saved.contact_private is False  # the box was left unticked

    bad = signed_in.post(
        url,
        data={
            "csrf_token": token,
            "title": "Fonds pour l'eau",
            "description": "Subventions pour l'eau potable des quartiers.",
            "modalities": ["grant"],
            "sdgs": ["6"],
            "opens_on": "2027-06-01",
            "deadline": "2027-05-31",
            "language": "fr",
            "contact_private": "y",
        },
    )
    assert bad.status_code == 400
    session.expire_all()
    assert session.get(Offer, offer.id).sdgs == [6, 11]  # nothing half-saved


def test_the_queue_says_how_many_matches_the_filter_holds(signed_in, session):
    project = factories.project(session, lines=["human_development"])
    other = factories.project(session, lines=["sustainable_territory"])
    for n in range(3):
        factories.match(session, project, factories.offer(session), score=0.5 + n / 10)
    factories.match(session, other, factories.offer(session), score=0.4)
    factories.match(
        session, other, factories.offer(session), score=0.9, status=MatchStatus.REJECTED
    )
    html = signed_in.get("/staff/queue").get_data(as_text=True)
    assert "4 matches fit these filters." in html
    html = signed_in.get("/staff/queue?line=human_development").get_data(as_text=True)
    assert "3 matches fit these filters." in html
    html = signed_in.get("/staff/queue?status=rejected").get_data(as_text=True)
    assert "1 match fits these filters." in html


def test_past_the_cap_postgresql_estimates_and_says_so(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the estimate is PostgreSQL's planner; SQLite counts exactly")
    project = factories.project(session)
    for _ in range(6):
        factories.match(session, project, factories.offer(session), score=0.5)
    whole = reviews.queue_select(session, reviews.QueueFilters(), date.today())
    assert reviews.count_of(session, whole, cap=10) == reviews.QueueCount(6, True)
    estimated = reviews.count_of(session, whole, cap=3)
    assert not estimated.exact and estimated.value >= 4
    page = reviews.queue_page(session, reviews.QueueFilters(), date.today(), per_page=2, count=True)
    after = reviews.queue_page(
        session, reviews.QueueFilters(after=page.next_after), date.today(), per_page=2, count=True
    )
    assert page.count == after.count  # the count is the filter's, not what follows the cursor


def test_the_edit_form_judges_with_the_api_schema(signed_in, session):
    """Staff edits go through the schema the API and the import use: an offer emptied of its
    modalities (or a two-letter title) would not import back after an export."""
    offer = factories.offer(session, status="submitted")
    url = f"/staff/moderation/{offer.id}/edit"
    token = csrf_token(signed_in.get(url).get_data(as_text=True))
    response = signed_in.post(
        url,
        data={
            "csrf_token": token,
            "title": "Ab",
            "description": offer.description,
            "language": "en",
            "currency": "USD",
            "amount_min": "10000",
            "amount_max": "500000",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="modalities-errors"' in html and 'id="title-errors"' in html
    session.expire_all()
    assert session.get(Offer, offer.id).modalities == ["grant"]
