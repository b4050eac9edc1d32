"""The public offer form: validation in both languages, CSRF, abuse limits, stored first."""

from __future__ import annotations

import re
import socket

import pytest
import sqlalchemy as sa

import config as app_config
from models import Offer, Organization
from models.enums import OfferSource, OfferStatus
from services import outbox, submissions
from tests import factories as f
from tests.web.helpers import csrf_token

EN = {"Accept-Language": "en"}
ERRORS = re.compile(r'<ul class="errors" id="([\w-]+)-errors">(.*?)</ul>', re.S)


def valid_form(**kw) -> dict:
    data = {
        "title": "Fondo de barrios resilientes",
        "description": "Subvenciones para reducir el riesgo de deslizamientos en laderas.",
        "modalities": ["grant", "technical_assistance"],
        "lines": ["sustainable_territory"],
        "sdgs": ["11", "13"],
        "amount_min": "50000",
        "amount_max": "250000",
        "currency": "USD",
        "eligible_kinds": ["local_public"],
        "eligible_countries": ["CO", "PE"],
        "opens_on": "2026-01-01",
        "deadline": "2027-03-31",
        "language": "es",
        "contact_email": "ana@example.org",
        "organization_id": "",
        "org_name": "Fundación Ladera",
        "org_kind": "foundation",
        "org_country": "ES",
        "org_website": "https://ladera.example.org",
        "homepage": "",
    }
    data.update(kw)
    return data


def send(client, lang: str = "es", **kw):
    """GET the form for its CSRF token, then POST it with `kw` over a valid offer."""
    headers = {"Accept-Language": lang}
    html = client.get("/offers/new", headers=headers).get_data(as_text=True)
    data = {**valid_form(**kw), "csrf_token": csrf_token(html)}
    multipart = "documents" in kw  # files are sent as multipart/form-data, as a browser does
    return client.post(
        "/offers/new",
        headers=headers,
        data=data,
        content_type="multipart/form-data" if multipart else None,
    )


def field_errors(html: str) -> dict[str, list[str]]:
    return {name: re.findall(r"<li>(.*?)</li>", body) for name, body in ERRORS.findall(html)}


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_form_is_public_in_both_languages(client):
    es = client.get("/offers/new", headers={"Accept-Language": "es"})
    assert es.status_code == 200
    html = es.get_data(as_text=True)
    assert "Ofrezca cooperación a la ciudad" in html and "Correo de contacto" in html
    assert "Donación (no reembolsable)" in html
    en = client.get("/offers/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Offer cooperation to the city" in en and "Contact email" in en
    assert 'class="hp"' in en and "style=" not in en  # the honeypot is hidden by a class


def test_the_form_lists_only_supply_organisations(client, session):
    f.organization(session, name="Banco Regional")
    f.organization(
        session, name="Secretaría de Salud", side="demand", kind="local_public", country="CO"
    )
    html = client.get("/offers/new").get_data(as_text=True)
    assert "Banco Regional" in html and "Secretaría de Salud" not in html


# (case, form changes, field the message stands beside, English message, Spanish message)
RULES = [
    (
        "title missing",
        {"title": ""},
        "title",
        "This field is required.",
        "Este campo es obligatorio.",
    ),
    (
        "title too short",
        {"title": "ab"},
        "title",
        "Use between 3 and 300 characters.",
        "Use entre 3 y 300 caracteres.",
    ),
    (
        "title too long",
        {"title": "t" * 301},
        "title",
        "Use between 3 and 300 characters.",
        "Use entre 3 y 300 caracteres.",
    ),
    (
        "description too short",
        {"description": "corta"},
        "description",
        "Use between 10 and 20000 characters.",
        "Use entre 10 y 20000 caracteres.",
    ),
    (
        "description too long",
        {"description": "d" * 20_001},
        "description",
        "Use between 10 and 20000 characters.",
        "Use entre 10 y 20000 caracteres.",
    ),
    (
        "no modality",
        {"modalities": []},
        "modalities",
        "Choose at least one.",
        "Elija al menos una opción.",
    ),
    (
        "unknown modality",
        {"modalities": ["bitcoin"]},
        "modalities",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "unknown line",
        {"lines": ["space"]},
        "lines",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "sdg out of range",
        {"sdgs": ["18"]},
        "sdgs",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "amount not a number",
        {"amount_min": "mucho"},
        "amount_min",
        "Give a number, e.g. 250000 (digits only).",
        "Escriba un número, p. ej. 250000 (solo dígitos).",
    ),
    (
        "negative amount",
        {"amount_max": "-5"},
        "amount_max",
        "Must be zero or more.",
        "Debe ser cero o más.",
    ),
    (
        "huge amount",
        {"amount_max": "1" + "0" * 16},
        "amount_max",
        "Must be at most 1,000,000,000,000,000.",
        "Debe ser como máximo 1,000,000,000,000,000.",
    ),
    (
        "minimum above maximum",
        {"amount_min": "900000"},
        "amount_max",
        "The maximum amount must be at least the minimum amount.",
        "El monto máximo debe ser al menos el mínimo.",
    ),
    (
        "amount without currency",
        {"currency": ""},
        "currency",
        "Give the currency of the amounts.",
        "Indique la moneda de los montos.",
    ),
    (
        "unknown currency",
        {"currency": "GBP"},
        "currency",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "unknown applicant kind",
        {"eligible_kinds": ["martians"]},
        "eligible_kinds",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "bad country code",
        {"eligible_countries": ["Colombia"]},
        "eligible_countries",
        "Use two-letter ISO 3166 country codes.",
        "Use códigos de país ISO 3166 de dos letras.",
    ),
    (
        "bad date",
        {"opens_on": "31/12/2026"},
        "opens_on",
        "Give a valid date (YYYY-MM-DD).",
        "Escriba una fecha válida (AAAA-MM-DD).",
    ),
    (
        "deadline before opening",
        {"opens_on": "2027-05-01"},
        "deadline",
        "The deadline cannot be before the opening date.",
        "La fecha de cierre no puede ser anterior a la de apertura.",
    ),
    (
        "language missing",
        {"language": ""},
        "language",
        "This field is required.",
        "Este campo es obligatorio.",
    ),
    (
        "unknown language",
        {"language": "xx"},
        "language",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "email missing",
        {"contact_email": ""},
        "contact_email",
        "Give an email address: we send the offer's link there.",
        "Escriba un correo electrónico: allí enviamos el enlace de la oferta.",
    ),
    (
        "email not valid",
        {"contact_email": "ana(at)example"},
        "contact_email",
        "Give a valid email address.",
        "Escriba un correo válido.",
    ),
    (
        "email too long",
        {"contact_email": "a" * 250 + "@example.org"},
        "contact_email",
        "Use at most 254 characters.",
        "Use como máximo 254 caracteres.",
    ),
    (
        "organisation name missing",
        {"org_name": ""},
        "org_name",
        "This field is required.",
        "Este campo es obligatorio.",
    ),
    (
        "organisation name too long",
        {"org_name": "n" * 201},
        "org_name",
        "Use between 2 and 200 characters.",
        "Use entre 2 y 200 caracteres.",
    ),
    (
        "organisation kind missing",
        {"org_kind": ""},
        "org_kind",
        "This field is required.",
        "Este campo es obligatorio.",
    ),
    (
        "organisation kind unknown",
        {"org_kind": "pirates"},
        "org_kind",
        "Choose one of the options.",
        "Elija una de las opciones.",
    ),
    (
        "organisation country missing",
        {"org_country": ""},
        "org_country",
        "This field is required.",
        "Este campo es obligatorio.",
    ),
    (
        "organisation country not a code",
        {"org_country": "Spain"},
        "org_country",
        "Use a two-letter ISO 3166 country code, e.g. CO.",
        "Use un código de país ISO 3166 de dos letras, p. ej. CO.",
    ),
    (
        "website not a URL",
        {"org_website": "ladera dot org"},
        "org_website",
        "Give a web address starting with https:// or http://.",
        "Escriba una dirección web que empiece por https:// o http://.",
    ),
    (
        "listed and new organisation",
        {"organization_id": "__ALLY__"},
        "org_name",
        "Choose your organisation from the list or enter a new one, not both.",
        "Elija su organización de la lista o escriba una nueva, no ambas.",
    ),
    (
        "unknown organisation",
        {"organization_id": "999999", "org_name": ""},
        "organization_id",
        "Choose your organisation from the list, or enter a new one.",
        "Elija su organización de la lista o escriba una nueva.",
    ),
]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(
    "case, changes, field, english, spanish", RULES, ids=[rule[0] for rule in RULES]
)
def test_each_rule_shows_its_message_beside_the_field(
    client, session, lang, case, changes, field, english, spanish
):
    if changes.get("organization_id") == "__ALLY__":
        changes = {**changes, "organization_id": str(f.organization(session).id)}
    before = count(session, Offer), count(session, Organization)
    response = send(client, lang, **changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html)
    message = english if lang == "en" else spanish
    assert message in [m.replace("&#39;", "'") for m in errors.get(field, [])], errors
    assert (count(session, Offer), count(session, Organization)) == before


def test_input_is_kept_and_never_rendered_as_markup(client, session):
    title = '<script>alert("x")</script> Fondo'
    response = send(
        client,
        "es",
        title=title,
        description="<b>x</b>",
        modalities=["loan"],
        eligible_countries=["PE"],
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "<b>x</b>" not in html
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Fondo"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert re.search(
        r'<input checked id="modalities-\d" name="modalities" type="checkbox" '
        r'value="loan">',
        html,
    )
    assert '<option selected value="PE">' in html
    assert 'value="ana@example.org"' in html and 'value="Fundación Ladera"' in html
    assert count(session, Offer) == 0


def test_a_valid_offer_is_stored_then_confirmed_and_emailed(client, session, settings):
    response = send(client, "en")
    assert response.status_code == 302
    assert "/offers/submitted/" in response.headers["Location"]
    offer = session.scalar(sa.select(Offer))
    assert offer.status == OfferStatus.SUBMITTED and offer.source == OfferSource.FORM
    assert offer.sdgs == [11, 13] and offer.eligible_countries == ["CO", "PE"]
    assert offer.organization.name == "Fundación Ladera"
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "your offer was received" in page and "ana@example.org" in page
    assert "/offers/follow/" in page
    mails = list(settings.mail_dir.glob("*.eml"))
    assert len(mails) == 1
    text = mails[0].read_text()
    assert "To: ana@example.org" in text and "/offers/follow/" in text
    assert "We received your offer" in text


def test_staff_find_the_offer_in_moderation(client, session):
    assert send(client, "es").status_code == 302
    _, raw = f.token(session, "staff")
    listed = client.get(
        "/api/v1/offers", query_string={"status": "submitted"}, headers=f.auth(raw)
    ).get_json()
    assert [item["title"] for item in listed["items"]] == ["Fondo de barrios resilientes"]


def test_choosing_a_listed_organisation(client, session):
    ally = f.organization(session, name="Banco Regional")
    response = send(
        client,
        "es",
        organization_id=str(ally.id),
        org_name="",
        org_kind="",
        org_country="",
        org_website="",
    )
    assert response.status_code == 302
    assert session.scalar(sa.select(Offer)).organization_id == ally.id
    assert count(session, Organization) == 1


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_csrf_missing_or_wrong_is_400(client, session, token):
    client.get("/offers/new")
    data = valid_form()
    if token:
        data["csrf_token"] = token
    response = client.post("/offers/new", data=data)
    assert response.status_code == 400
    assert "Open the form again" in response.get_data(
        as_text=True
    ) or "Abra el formulario de nuevo" in response.get_data(as_text=True)
    assert count(session, Offer) == 0


def test_the_honeypot_answers_like_success_and_stores_nothing(client, session, settings):
    response = send(client, "en", homepage="http://spam.example")
    assert response.status_code == 200
    assert "your offer was received" in response.get_data(as_text=True)
    assert count(session, Offer) == 0 and count(session, Organization) == 0
    assert not list(settings.mail_dir.glob("*.eml"))


def test_a_duplicate_within_minutes_is_not_stored_twice(app, client, session, settings):
    first = send(client, "es")
    again = send(client, "es", title="  fondo DE barrios   Resilientes ")
    assert first.status_code == again.status_code == 302

    def followed(response) -> int:
        # The token carries its signing time, so two links a second apart differ: compare
        # the offer each one opens.
        token = response.headers["Location"].rsplit("/", 1)[1]
        return submissions.read_follow_token(session, app.config["SECRET_KEY"], token).id

    assert followed(first) == followed(again)
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Ya había enviado esta oferta" in page
    assert count(session, Offer) == 1
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1


def test_a_body_over_the_limit_gets_a_friendly_413(client, session):
    response = send(client, "es", description="x" * (3 * 1024 * 1024))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Lo que envió es demasiado grande" in html and "2.048 KB" in html
    assert count(session, Offer) == 0


def test_submissions_are_rate_limited_per_ip(client, session):
    for n in range(5):
        assert send(client, "en", title=f"Offer number {n}").status_code == 302
    response = send(client, "en", title="Offer number 6")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Please wait a moment" in html and "we keep every offer we received" in html
    assert count(session, Offer) == 5
    assert client.get("/offers/new").status_code == 200  # reading the form is not limited


def test_submissions_are_rate_limited_per_email(client, session):
    def from_ip(n: int, ip: str):
        headers = {"Accept-Language": "es"}
        html = client.get("/offers/new", headers=headers).get_data(as_text=True)
        return client.post(
            "/offers/new",
            headers=headers,
            environ_base={"REMOTE_ADDR": ip},
            data={**valid_form(title=f"Oferta {n}"), "csrf_token": csrf_token(html)},
        )

    for n in range(5):
        assert from_ip(n, f"10.0.0.{n + 1}").status_code == 302
    response = from_ip(6, "10.0.0.99")
    assert response.status_code == 429
    assert "Espere un momento, por favor" in response.get_data(as_text=True)
    assert from_ip(7, "10.0.0.98").status_code == 429
    assert count(session, Offer) == 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_stored_when_mail_server_and_broker_are_unreachable(
    tmp_path, database_url, session_factory
):
    from web.app import create_app

    settings = app_config.Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        mail_server="127.0.0.1",
        mail_port=_closed_port(),
        mail_starttls=False,
        redis_url="redis://127.0.0.1:1/0",
    )
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    client = app.test_client()
    response = send(client, "en")
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "your offer was received" in page
    assert "could not send the confirmation email" in page
    with session_factory() as session:
        offer = session.scalar(sa.select(Offer))
        assert offer.status == OfferStatus.SUBMITTED and offer.title == valid_form()["title"]
        # A submitted offer is not scored: nothing waits for the broker until staff publish it.
        assert outbox.pending(session) == 0
        assert session.scalar(sa.select(Organization)).name == "Fundación Ladera"
