"""The public opportunities query: what is public, search, filters, order, and what is never
shown."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.offers import search_key, search_text_of
from services import catalog, opportunities
from services.errors import Invalid, NotFound
from tests import factories as f

TODAY = date.today()


def titles(page) -> list[str]:
    return [o.title for o in page.items]


def find(session, **filters):
    return opportunities.search(session, opportunities.Filters(**filters), TODAY, per_page=100)


@pytest.fixture
def world(session):
    giz = f.organization(
        session, name="Deutsche Zusammenarbeit GIZ", kind="bilateral", country="DE"
    )
    uni = f.organization(session, name="Universidad de Lund", kind="university", country="SE")
    offers = {
        "water": f.offer(
            session,
            org=giz,
            title="Agua potable para barrios de ladera",
            description="Subvenciones para acueductos comunitarios.",
            lines=["sustainable_territory"],
            modalities=["grant"],
            eligible_countries=["CO", "PE"],
            deadline=TODAY + timedelta(days=10),
        ),
        "school": f.offer(
            session,
            org=uni,
            title="Educación inicial en comunas",
            description="Technical assistance for early childhood centres; agua y saneamiento.",
            lines=["human_development"],
            modalities=["technical_assistance"],
            eligible_countries=[],
            deadline=TODAY + timedelta(days=90),
        ),
        "open": f.offer(
            session,
            org=uni,
            title="Permanent knowledge exchange",
            description="Study visits all year round between partner cities.",
            lines=["governance_peace"],
            modalities=["knowledge_exchange"],
            eligible_countries=["MX"],
            deadline=None,
        ),
        "past": f.offer(session, org=giz, title="Closed yesterday", deadline=TODAY - timedelta(1)),
        "submitted": f.offer(session, org=giz, title="Waiting moderation", status="submitted"),
        "closed": f.offer(session, org=giz, title="Closed by staff", status="closed"),
    }
    return offers


def test_only_published_offers_whose_deadline_has_not_passed_are_public(session, world):
    page = find(session)
    assert titles(page) == [  # nearest deadline first, no deadline last
        "Agua potable para barrios de ladera",
        "Educación inicial en comunas",
        "Permanent knowledge exchange",
    ]
    assert page.total == 3
    for name in ("past", "submitted", "closed"):
        with pytest.raises(NotFound):
            opportunities.get(session, world[name].id, TODAY)


def test_search_ignores_accents_and_case_and_needs_every_word(session, world):
    assert titles(find(session, q="EDUCACION")) == ["Educación inicial en comunas"]
    assert set(titles(find(session, q="agua"))) == {
        "Agua potable para barrios de ladera",
        "Educación inicial en comunas",
    }
    assert titles(find(session, q="agua ladera")) == ["Agua potable para barrios de ladera"]
    assert titles(find(session, q="agua nowhere")) == []
    assert titles(find(session, q="100%_")) == []  # LIKE wildcards are plain characters


def test_search_finds_the_ally_by_name(session, world):
    assert titles(find(session, q="giz")) == ["Agua potable para barrios de ladera"]


def test_relevance_puts_title_hits_first_then_the_nearest_deadline(session, world):
    session.get(type(world["school"]), world["school"].id).deadline = TODAY + timedelta(days=5)
    session.commit()
    by_deadline = find(session, q="agua", sort="deadline")
    assert titles(by_deadline)[0] == "Educación inicial en comunas"
    by_relevance = find(session, q="agua")  # searching sorts by relevance unless told
    assert titles(by_relevance)[0] == "Agua potable para barrios de ladera"


def test_filters_combine(session, world):
    assert titles(find(session, line="human_development")) == ["Educación inicial en comunas"]
    assert titles(find(session, modality="knowledge_exchange")) == ["Permanent knowledge exchange"]
    assert titles(find(session, kind="bilateral")) == ["Agua potable para barrios de ladera"]
    # An empty list of countries means every country may apply.
    assert titles(find(session, country="CO")) == [
        "Agua potable para barrios de ladera",
        "Educación inicial en comunas",
    ]
    assert titles(find(session, country="MX")) == [
        "Educación inicial en comunas",
        "Permanent knowledge exchange",
    ]
    assert titles(find(session, closes_within=30)) == ["Agua potable para barrios de ladera"]
    assert titles(find(session, closes_within=30, kind="university")) == []


def test_pages_hold_the_total_and_stay_in_order(session, world):
    first = opportunities.search(session, opportunities.Filters(), TODAY, page=1, per_page=2)
    second = opportunities.search(session, opportunities.Filters(), TODAY, page=2, per_page=2)
    assert (first.total, first.pages) == (3, 2)
    assert titles(first) + titles(second) == titles(find(session))


def test_the_contact_email_is_shown_only_when_not_private(session, world):
    offer = world["water"]
    assert opportunities.get(session, offer.id, TODAY).contact_email is None
    catalog.update(session, offer, {"contact_email": "calls@giz.example", "contact_private": False})
    shown = opportunities.get(session, offer.id, TODAY)
    assert shown.contact_email == "calls@giz.example"
    assert shown.ally == "Deutsche Zusammenarbeit GIZ" and shown.documents == []
    public_fields = set(opportunities.PublicOffer.__dataclass_fields__)
    assert not public_fields & {"score", "matches", "components", "explanation", "status"}


def test_newest_is_by_first_publication_and_windows_are_half_open(session, world):
    order = [o.title for o in opportunities.newest(session, opportunities.Filters(), TODAY)]
    assert order[0] == "Permanent knowledge exchange"  # created last
    water = world["water"]
    since = water.published_at - timedelta(seconds=1)
    window = opportunities.newest(
        session, opportunities.Filters(), TODAY, since=since, until=water.published_at
    )
    assert [o.id for o in window] == [water.id]
    assert (
        opportunities.count_new(
            session, opportunities.Filters(), TODAY, water.published_at, water.published_at
        )
        == 0
    )


def test_publishing_stamps_the_first_publication_and_edits_refresh_the_search_text(session):
    offer = f.offer(session, title="Borrador", status="submitted")
    assert offer.published_at is None
    catalog.update(session, offer, {"status": "published", "title": "Becas de posgrado"})
    session.refresh(offer)
    assert offer.published_at is not None
    assert offer.search_text == search_text_of("Becas de posgrado", offer.description)
    first = offer.published_at
    catalog.update(session, offer, {"status": "closed"})
    catalog.update(session, offer, {"status": "published"})
    session.refresh(offer)
    assert offer.published_at == first


def test_filters_from_the_query_string_are_checked_by_name():
    with pytest.raises(Invalid) as caught:
        opportunities.Filters.from_params(
            {"line": "nope", "closes_within": "soon", "country": "col", "sort": "best"}
        )
    assert set(caught.value.fields) == {"line", "closes_within", "country", "sort"}
    read = opportunities.Filters.from_params({"q": "  agua ", "country": "co", "page": "3"})
    assert read.params() == {"q": "agua", "country": "CO"}


def test_search_key_folds_accents_case_and_punctuation():
    assert search_key("¡Educación, AÑO-2026!") == "educacion ano 2026"
    assert search_text_of("Título", "Descripción\nlarga") == "titulo\ndescripcion larga"
