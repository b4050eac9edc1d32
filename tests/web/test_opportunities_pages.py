"""The public opportunities pages, the Atom feed, email alerts and saved-search pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import feedparser
import sqlalchemy as sa

from models import SavedSearch
from models.searches import SearchStatus
from services import reviews, user_admin
from services.searches import store
from tests import factories as f
from tests.web.helpers import csrf_token, sign_in

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


def seed(session):
    ally = f.organization(session, name="Fundación Agua Viva", kind="foundation", country="ES")
    water = f.offer(
        session,
        org=ally,
        title="Agua potable para laderas",
        description="Grants for community aqueducts.",
        contact_email="calls@agua.example",
        contact_private=False,
        deadline=date.today() + timedelta(days=20),
    )
    hidden = f.offer(
        session,
        title="Movilidad eléctrica",
        contact_email="secret@ally.example",
        deadline=date.today() + timedelta(days=40),
    )
    draft = f.offer(session, title="Borrador sin publicar", status="submitted")
    project = f.project(session)
    f.match(session, project, water, score=0.87, explanation={"en": ["internal reason xyz"]})
    return water, hidden, draft


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_list_is_public_searchable_and_in_both_languages(client, session):
    water, hidden, draft = seed(session)
    page = client.get("/opportunities", headers=ES)
    assert page.status_code == 200
    html = text_of(page)
    assert "Agua potable para laderas" in html and "Movilidad eléctrica" in html
    assert "Borrador sin publicar" not in html
    assert "2 oportunidades abiertas" in html
    assert 'type="application/atom+xml"' in html
    english = text_of(client.get("/opportunities?q=AGUA", headers=EN))
    assert "1 open opportunity" in english and "Movilidad" not in english
    assert "Get new opportunities by email" in english


def test_bad_filters_are_explained_beside_their_field_and_ignored(client, session):
    seed(session)
    response = client.get("/opportunities?closes_within=soon&line=nope", headers=EN)
    assert response.status_code == 400
    html = text_of(response)
    assert 'id="closes_within-errors"' in html and "Give a whole number of days." in html
    assert 'id="line-errors"' in html
    assert "2 open opportunities" in html  # the other filters still apply


def test_an_offer_page_shows_what_is_public_and_nothing_internal(client, session):
    water, hidden, draft = seed(session)
    html = text_of(client.get(f"/opportunities/{water.id}", headers=EN))
    assert "Fundación Agua Viva" in html and "calls@agua.example" in html
    assert "How to apply" in html and "USD 10,000 – 500,000" in html
    assert "internal reason xyz" not in html and "0.87" not in html and "87" not in html
    private = text_of(client.get(f"/opportunities/{hidden.id}", headers=EN))
    assert "secret@ally.example" not in private
    assert "contact for this call is not public" in private
    assert client.get(f"/opportunities/{draft.id}").status_code == 404
    assert client.get("/opportunities/999999").status_code == 404


def test_pages_carry_the_strict_content_security_policy(client, session):
    seed(session)
    response = client.get("/opportunities")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "style=" not in text_of(response) and "<script>" not in text_of(response)


def test_pagination_keeps_the_filters(client, session):
    for n in range(23):
        f.offer(session, title=f"Beca de agua {n:02d}")
    html = text_of(client.get("/opportunities?q=beca&sort=deadline", headers=EN))
    assert "Page 1 of 2" in html
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "q=beca" in link and "page=2" in link
    second = text_of(client.get(link, headers=EN))
    assert second.count('class="card opp"') == 3


def test_the_atom_feed_is_valid_and_takes_the_same_filters(client, session):
    water, hidden, draft = seed(session)
    response = client.get("/opportunities.atom?q=agua")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title and feed.feed.updated and feed.feed.id
    assert [e.title for e in feed.entries] == ["Agua potable para laderas"]
    entry = feed.entries[0]
    assert entry.id.endswith(f"/opportunities/{water.id}") and entry.published and entry.updated
    assert urlsplit(entry.link).path == f"/opportunities/{water.id}"
    assert entry.author == "Fundación Agua Viva"
    everything = feedparser.parse(client.get("/opportunities.atom").data)
    assert len(everything.entries) == 2
    bad = client.get("/opportunities.atom?line=nope")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["line"]


def test_email_alerts_never_tell_whether_an_address_is_known(client, session, settings):
    seed(session)

    def subscribe(address):
        html = text_of(client.get("/opportunities?q=agua", headers=EN))
        return client.post(
            "/opportunities/alerts",
            headers=EN,
            data={
                "csrf_token": csrf_token(html),
                "q": "agua",
                "name": "Agua",
                "email": address,
                "frequency": "weekly",
            },
        )

    first = subscribe("new@example.org")
    known = store.confirm(session, session.scalar(sa.select(SavedSearch)))[0]
    assert known.params == {"q": "agua"} and str(known.frequency) == "weekly"
    again = subscribe("new@example.org")
    other = subscribe("other@example.org")
    assert first.status_code == again.status_code == other.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", text_of(first)) == strip.sub("", text_of(again))
    assert "Check your inbox" in text_of(first)
    assert known.status == SearchStatus.SUBSCRIBED
    mails = sorted(settings.mail_dir.glob("*.eml"))
    assert len(mails) == 3  # one confirmation per request, to that address only
    body = mails[0].read_bytes().decode()
    assert "/searches/confirm/" in body


def test_a_bad_alert_request_shows_errors_beside_the_fields(client, session):
    seed(session)
    html = text_of(client.get("/opportunities", headers=EN))
    response = client.post(
        "/opportunities/alerts",
        headers=EN,
        data={"csrf_token": csrf_token(html), "name": "", "email": "nope", "frequency": ""},
    )
    assert response.status_code == 400
    page = text_of(response)
    assert 'id="email-errors"' in page and 'id="name-errors"' in page
    assert session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0


def test_the_confirmation_link_needs_a_button_press(client, session, settings):
    search = store.subscribe_by_email(
        session, email="x@example.org", name="Agua", params={}, frequency="daily", language="en"
    )
    token = store.confirmation_token(settings.secret_key, search)
    page = client.get(f"/searches/confirm/{token}")
    assert page.status_code == 200 and "Confirm" in text_of(page)
    session.refresh(search)
    assert search.status == SearchStatus.PENDING  # opening the link confirms nothing
    done = client.post(f"/searches/confirm/{token}", data={"csrf_token": csrf_token(text_of(page))})
    assert done.status_code == 200 and "Confirmed" in text_of(done)
    session.refresh(search)
    assert search.status == SearchStatus.SUBSCRIBED
    assert client.get(f"/searches/confirm/{token[:-4]}AAAA").status_code == 400


def test_one_click_unsubscribe_works_once_without_a_session(client, session, settings):
    search = store.subscribe_by_email(
        session, email="y@example.org", name="Agua", params={}, frequency="daily", language="es"
    )
    store.confirm(session, search)
    token = store.unsubscribe_token(settings.secret_key, search)
    assert "Cancelar" in text_of(client.get(f"/searches/unsubscribe/{token}"))
    one_click = {"List-Unsubscribe": "One-Click"}
    assert client.post(f"/searches/unsubscribe/{token}", data=one_click).status_code == 200
    assert client.post(f"/searches/unsubscribe/{token}", data=one_click).status_code == 409
    session.refresh(search)
    assert search.status == SearchStatus.UNSUBSCRIBED
    assert client.post(f"/searches/unsubscribe/{token[:-4]}AAAA").status_code == 400


def test_signed_in_people_save_searches_and_choose_the_emails(client, session):
    seed(session)
    user_admin.create_user(session, "ana@agency.example", "staff", "a-long-password")
    sign_in(client, "ana@agency.example")
    html = text_of(client.get("/opportunities?q=agua&line=sustainable_territory", headers=EN))
    # A signed-in person reads the page in their own language (Spanish here).
    assert "Guardar esta búsqueda" in html and "Reciba las oportunidades nuevas" not in html
    saved = client.post(
        "/searches",
        data={
            "csrf_token": csrf_token(html),
            "scope": "opportunities",
            "q": "agua",
            "line": "sustainable_territory",
            "name": "Agua",
            "frequency": "",
        },
    )
    assert saved.status_code == 302
    search = session.scalar(sa.select(SavedSearch))
    assert search.params == {"q": "agua", "line": "sustainable_territory"}
    listing = text_of(client.get("/searches", headers=EN))
    assert "/opportunities?q=agua&amp;line=sustainable_territory" in listing
    client.post(
        f"/searches/{search.id}",
        data={"csrf_token": csrf_token(listing), "frequency": "daily"},
    )
    session.refresh(search)
    assert search.status == SearchStatus.SUBSCRIBED and str(search.frequency) == "daily"
    client.post(f"/searches/{search.id}/delete", data={"csrf_token": csrf_token(listing)})
    assert session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0


def test_staff_save_a_queue_filter_and_nobody_touches_anothers_search(client, session):
    staff = user_admin.create_user(session, "bo@agency.example", "staff", "a-long-password")
    other = store.save(session, staff, scope="queue", name="Mine", params={})
    user_admin.create_user(session, "eve@agency.example", "staff", "a-long-password")
    sign_in(client, "eve@agency.example")
    queue = text_of(client.get("/staff/queue?line=human_development&min_score=0.5", headers=EN))
    assert "Guardar esta búsqueda" in queue
    response = client.post(
        "/searches",
        data={
            "csrf_token": csrf_token(queue),
            "scope": "queue",
            "line": "human_development",
            "min_score": "0.5",
            "status": "open",
            "name": "Human development",
            "frequency": "weekly",
        },
    )
    assert response.status_code == 302
    mine = session.scalar(sa.select(SavedSearch).where(SavedSearch.name == "Human development"))
    assert reviews.QueueFilters.from_params(mine.params).line == "human_development"
    token = csrf_token(queue)
    assert (
        client.post(f"/searches/{other.id}/delete", data={"csrf_token": token}).status_code == 404
    )


def test_partners_cannot_save_queue_searches(client, session):
    org = f.organization(session)
    user_admin.create_user(
        session, "p@ally.example", "partner", "a-long-password", organization_id=org.id
    )
    sign_in(client, "p@ally.example")
    html = text_of(client.get("/opportunities"))
    response = client.post(
        "/searches",
        data={"csrf_token": csrf_token(html), "scope": "queue", "name": "x", "frequency": ""},
    )
    assert response.status_code == 403
