"""Following an offer by its signed link: status, edit, withdraw, new links, and the API's link."""

from __future__ import annotations

import re
import time
from email import message_from_bytes

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from models.enums import OfferStatus
from services import catalog, moderation, submissions
from tests import factories as f
from tests.web.helpers import csrf_token
from tests.web.test_public_form import valid_form

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def offer(session):
    ally = f.organization(session, name="Fundación Ladera", kind="foundation")
    return f.offer(
        session,
        ally,
        title="Resilient hillsides fund",
        status="submitted",
        source="form",
        contact_email="ana@example.org",
        sdgs=[11, 13],
        modalities=["grant", "loan"],
    )


def follow_path(app, offer) -> str:
    return f"/offers/follow/{submissions.follow_token(app.config['SECRET_KEY'], offer)}"


def edit_form(**kw) -> dict:
    data = {
        "title": "Resilient hillsides fund, second call",
        "description": "Grants for landslide risk reduction in hillside settlements.",
        "modalities": ["grant"],
        "lines": ["sustainable_territory"],
        "sdgs": ["11"],
        "amount_min": "10000",
        "amount_max": "90000",
        "currency": "EUR",
        "eligible_kinds": ["local_public"],
        "eligible_countries": ["CO"],
        "opens_on": "",
        "deadline": "2027-06-30",
        "language": "en",
    }
    data.update(kw)
    return data


def mails(settings) -> list:
    return [message_from_bytes(p.read_bytes()) for p in sorted(settings.mail_dir.glob("*.eml"))]


def body(message) -> str:
    return message.get_payload(decode=True).decode()


def test_follow_page_shows_status_and_a_prefilled_edit_form(app, client, offer):
    response = client.get(follow_path(app, offer), headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Submitted: waiting for review by the cooperation team" in html
    assert 'value="Resilient hillsides fund"' in html
    assert re.search(r'<input checked id="sdgs-12" name="sdgs" type="checkbox" value="13">', html)
    assert re.search(
        r'<input checked id="modalities-1" name="modalities" type="checkbox" '
        r'value="loan">',
        html,
    )
    assert "Withdraw the offer" in html and "Projects matched" not in html
    es = client.get(follow_path(app, offer), headers=ES).get_data(as_text=True)
    assert "Enviada: espera la revisión del equipo de cooperación" in es


def test_edit_while_submitted(app, client, session, offer):
    path = follow_path(app, offer)
    token = csrf_token(client.get(path).get_data(as_text=True))
    response = client.post(path + "/edit", data={**edit_form(), "csrf_token": token}, headers=EN)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Your changes are saved." in page
    session.refresh(offer)
    assert offer.title == "Resilient hillsides fund, second call"
    assert offer.currency == "EUR" and offer.sdgs == [11] and offer.opens_on is None
    assert offer.status == OfferStatus.SUBMITTED and offer.contact_email == "ana@example.org"


@pytest.mark.parametrize(
    "headers, message",
    [
        (EN, "The deadline cannot be before the opening date."),
        (ES, "La fecha de cierre no puede ser anterior a la de apertura."),
    ],
)
def test_edit_errors_are_shown_beside_the_fields_and_nothing_changes(
    app, client, session, offer, headers, message
):
    path = follow_path(app, offer)
    token = csrf_token(client.get(path).get_data(as_text=True))
    response = client.post(
        path + "/edit",
        headers=headers,
        data={
            **edit_form(opens_on="2027-08-01", title="Changed <em>title</em>"),
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="deadline-errors"><li>' + re.escape(message), html)
    assert 'value="Changed &lt;em&gt;title&lt;/em&gt;"' in html
    session.refresh(offer)
    assert offer.title == "Resilient hillsides fund"


def test_no_edit_once_reviewed(app, client, session, offer):
    path = follow_path(app, offer)
    token = csrf_token(client.get(path).get_data(as_text=True))
    catalog.update(session, offer, {"status": "published"})
    response = client.post(path + "/edit", data={**edit_form(), "csrf_token": token}, headers=EN)
    assert response.status_code == 302
    page = client.get(path, headers=EN).get_data(as_text=True)
    assert "already been reviewed" in page and "Change the offer" not in page
    session.refresh(offer)
    assert offer.title == "Resilient hillsides fund"


def test_withdraw_asks_then_withdraws(app, client, session, offer):
    path = follow_path(app, offer)
    confirm = client.get(path + "/withdraw", headers=EN)
    assert confirm.status_code == 200 and "Yes, withdraw it" in confirm.get_data(as_text=True)
    assert client.post(path + "/withdraw", data={}).status_code == 400  # no CSRF token
    session.refresh(offer)
    assert offer.status == OfferStatus.SUBMITTED
    token = csrf_token(confirm.get_data(as_text=True))
    response = client.post(path + "/withdraw", data={"csrf_token": token}, headers=EN)
    assert response.status_code == 302
    page = client.get(path, headers=EN).get_data(as_text=True)
    assert "Your offer has been withdrawn." in page and "Withdrawn by you" in page
    assert "Change the offer" not in page and "Withdraw the offer" not in page
    session.refresh(offer)
    assert offer.status == OfferStatus.WITHDRAWN


def test_rejected_offer_shows_the_reason_in_both_languages(app, client, session, offer):
    staff = f.token(session, "staff")[0]
    moderation.reject(session, offer, staff.id, "incomplete", "Add the <b>amounts</b>, please.")
    en = client.get(follow_path(app, offer), headers=EN).get_data(as_text=True)
    assert "Not accepted" in en and "Some information was missing." in en
    assert "Add the &lt;b&gt;amounts&lt;/b&gt;, please." in en
    es = client.get(follow_path(app, offer), headers=ES).get_data(as_text=True)
    assert "No aceptada" in es and "Faltaba información." in es
    assert "Withdraw" not in en and "Change the offer" not in en


def test_published_offer_shows_how_many_projects_matched_and_nothing_private(
    app, client, session, offer
):
    catalog.update(session, offer, {"status": "published"})
    secret = f.project(
        session, title="Proyecto confidencial de acueducto", contact_email="jefa@medellin.example"
    )
    f.match(session, secret, offer)
    f.match(session, f.project(session), offer, status="withdrawn")
    html = client.get(follow_path(app, offer), headers=EN).get_data(as_text=True)
    assert re.search(r"<dt>Projects matched</dt>\s*<dd>1</dd>", html)
    assert "acueducto" not in html and "jefa@medellin" not in html
    assert "Published: the offer is being matched" in html


def test_expired_and_forged_links(app, client, offer):
    path = follow_path(app, offer)
    salt = submissions._follow_salt(offer)
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).loads(
        path.rsplit("/", 1)[1]
    )
    assert payload == {"offer": offer.id}  # no email, not even hashed, in a readable token

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 24 * 3600

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=LongAgo).dumps(payload)
    expired = client.get(f"/offers/follow/{old}", headers=EN)
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    forged = client.get(path[:-3] + "abc", headers=ES)
    assert forged.status_code == 404 and "Este enlace no es válido" in forged.get_data(as_text=True)
    assert client.post(f"/offers/follow/{old}/withdraw").status_code == 400  # CSRF first


def test_ask_for_new_links_by_email(app, client, session, settings, offer):
    other = f.offer(
        session, offer.organization, title="Second fund", contact_email="ANA@example.org"
    )
    page = client.get("/offers/link", headers=EN)
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/offers/link", data={"email": " ana@example.org ", "csrf_token": token}, headers=EN
    )
    assert response.status_code == 200
    assert "If we have offers with the contact ana@example.org" in response.get_data(as_text=True)
    [message] = mails(settings)
    assert message["To"] == "ana@example.org"
    links = re.findall(r"http://127\.0\.0\.1:5000(/offers/follow/\S+)", body(message))
    assert len(links) == 2
    for link, title in zip(links, (other.title, offer.title), strict=True):  # newest first
        assert title in client.get(link, headers=EN).get_data(as_text=True)


def test_asking_for_links_reveals_nothing_about_unknown_addresses(client, settings):
    token = csrf_token(client.get("/offers/link").get_data(as_text=True))
    response = client.post(
        "/offers/link", data={"email": "nobody@example.org", "csrf_token": token}, headers=EN
    )
    assert response.status_code == 200
    assert "If we have offers with the contact nobody@example.org" in response.get_data(
        as_text=True
    )
    assert mails(settings) == []
    bad = client.post("/offers/link", data={"email": "nobody", "csrf_token": token}, headers=ES)
    assert bad.status_code == 400
    assert re.search(
        r'id="email-errors"><li>Escriba un correo válido\.', bad.get_data(as_text=True)
    )


def test_confirmation_email_link_opens_the_follow_page(client, settings):
    headers = {"Accept-Language": "es"}
    html = client.get("/offers/new", headers=headers).get_data(as_text=True)
    client.post(
        "/offers/new", headers=headers, data={**valid_form(), "csrf_token": csrf_token(html)}
    )
    [message] = mails(settings)
    assert message["Subject"] == "Recibimos su oferta: Fondo de barrios resilientes"
    text = body(message)
    assert "Con este enlace puede seguir su oferta" in text
    link = re.search(r"http://127\.0\.0\.1:5000(/offers/follow/\S+)", text)[1]
    page = client.get(link, headers=headers).get_data(as_text=True)
    assert "Fondo de barrios resilientes" in page and "Enviada" in page


def test_api_offer_answer_carries_the_status_link(client, session):
    ally = f.organization(session, name="UN-Habitat")
    _, raw = f.token(session, "partner", organization_id=ally.id)
    response = client.post(
        "/api/v1/offers",
        headers=f.auth(raw),
        json={
            "organization_id": ally.id,
            "title": "Urban resilience call",
            "description": "Technical assistance for resilience plans in Latin American cities.",
            "modalities": ["technical_assistance"],
            "language": "en",
            "contact_email": "partner@unhabitat.example",
        },
    )
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "submitted" and answer["id"]
    assert answer["links"]["self"] == response.headers["Location"]
    status_url = answer["links"]["status"]
    assert status_url.startswith("http://127.0.0.1:5000/offers/follow/")
    page = client.get(status_url.removeprefix("http://127.0.0.1:5000"), headers=EN)
    assert page.status_code == 200 and "Urban resilience call" in page.get_data(as_text=True)


def test_strangers_cannot_lock_the_owner_out_of_new_links(client, settings, offer):
    """Finding 9: three requests from three addresses used to answer 429 to the owner."""
    token = csrf_token(client.get("/offers/link").get_data(as_text=True))

    def ask(address: str):
        return client.post(
            "/offers/link",
            data={"email": offer.contact_email, "csrf_token": token},
            headers=EN,
            environ_base={"REMOTE_ADDR": address},
        )

    for n in range(6):  # strangers (or one with many addresses) ask for the owner's links
        assert ask(f"203.0.113.{n + 1}").status_code == 200
    assert len(mails(settings)) == 3  # the address's quota of mails, whoever asks
    owner = ask("198.51.100.7")
    assert owner.status_code == 200  # the same answer as everyone: nothing is revealed
    assert "If we have offers with the contact" in owner.get_data(as_text=True)
