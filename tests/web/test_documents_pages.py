"""Documents on the pages and the API: staff attach, show or hide, remove and download any;
anyone downloads a published offer's public ones; partners attach to their own offers through
the API and with the public form. Real files, both databases, tasks run in-process."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
import sqlalchemy as sa

from models import Document, Offer
from models.enums import ExtractionState
from services import user_admin
from tests import document_files as files
from tests import factories as f
from tests.web.helpers import csrf_token, sign_in
from tests.web.test_public_form import send

CALL = ["Terms of reference", "Rainwater harvesting for hillside schools."]


@pytest.fixture
def staff(session):
    return user_admin.create_user(
        session, "docs-staff@example.org", "staff", "a-long-password", language="en"
    )


@pytest.fixture
def signed_in(client, staff):
    assert sign_in(client, staff.email).status_code == 302
    return client


def upload(client, url: str, page: str, name: str, data: bytes, **extra):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name), "csrf_token": token, "next": page, **extra},
        content_type="multipart/form-data",
    )


def documents(session, offer_id: int) -> list[Document]:
    return list(session.scalars(sa.select(Document).where(Document.offer_id == offer_id)))


def test_staff_attach_a_document_on_the_offer_form_and_its_text_is_read(signed_in, session):
    offer = f.offer(session, status="submitted")
    page = f"/staff/moderation/{offer.id}/edit"
    big = files.pdf([CALL + ["filler " * 150] * 30] * 70)  # over the 2 MB form limit
    assert len(big) > 2 * 1024 * 1024
    response = upload(signed_in, f"/staff/offers/{offer.id}/documents", page, "TdR.pdf", big)
    assert response.status_code == 302 and response.headers["Location"] == page
    [document] = documents(session, offer.id)
    assert document.extraction_state == ExtractionState.DONE  # the task ran in-process
    assert "Rainwater harvesting" in document.text and not document.public
    html = signed_in.get(page).get_data(as_text=True)
    assert "TdR.pdf" in html and "Text read" in html and "Staff only" in html


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("locked.pdf", files.encrypted_pdf(["x"]), 422, "encrypted or password-protected"),
        ("call.pdf", files.docx(["x"]), 422, "its content is another"),
        ("bomb.docx", files.bomb_docx(210), 422, "unpacks to far more"),
        ("truncated.pdf", files.pdf([CALL] * 5)[:400], 422, "damaged or incomplete"),
    ],
)
def test_a_refused_file_is_shown_beside_the_field(signed_in, session, name, data, status, message):
    offer = f.offer(session)
    page = f"/staff/offers/{offer.id}"
    response = upload(signed_in, f"{page}/documents", page, name, data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    errors = re.search(r'<ul class="errors" id="file-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1)
    assert documents(session, offer.id) == []


def test_the_error_is_in_spanish_for_a_spanish_reader(client, session):
    user = user_admin.create_user(session, "es@example.org", "staff", "a-long-password")
    sign_in(client, user.email)
    offer = f.offer(session)
    page = f"/staff/offers/{offer.id}"
    response = upload(client, f"{page}/documents", page, "x.pdf", files.encrypted_pdf(["x"]))
    assert "cifrado o protegido con contraseña" in response.get_data(as_text=True)


def test_no_file_is_a_400(signed_in, session):
    offer = f.offer(session)
    token = csrf_token(signed_in.get(f"/staff/offers/{offer.id}").get_data(as_text=True))
    response = signed_in.post(
        f"/staff/offers/{offer.id}/documents",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_a_failed_extraction_is_shown_and_the_file_kept(signed_in, session, settings):
    offer = f.offer(session)
    page = f"/staff/offers/{offer.id}"
    data = files.xxe_docx()  # once: a zip carries the time it was made
    assert upload(signed_in, f"{page}/documents", page, "x.docx", data).status_code == 302
    [document] = documents(session, offer.id)
    assert document.extraction_state == ExtractionState.FAILED
    html = signed_in.get(page).get_data(as_text=True)
    assert "Its text could not be read" in html and "Read it again" in html
    download = signed_in.get(f"/staff/documents/{document.id}")
    assert download.status_code == 200 and download.data == data


def test_projects_take_documents_and_match_on_them(signed_in, session):
    project = f.project(session)
    page = f"/staff/projects/{project.id}"
    data = files.odt(["Acueductos veredales", "Cosecha de agua lluvia"])
    assert upload(signed_in, f"{page}/documents", page, "perfil.odt", data).status_code == 302
    [document] = session.scalars(sa.select(Document).where(Document.project_id == project.id))
    assert document.text == "Acueductos veredales\nCosecha de agua lluvia"
    assert "perfil.odt" in signed_in.get(page).get_data(as_text=True)


def test_staff_show_hide_and_remove(signed_in, session, settings):
    offer = f.offer(session)
    page = f"/staff/offers/{offer.id}"
    upload(signed_in, f"{page}/documents", page, "tdr.txt", b"Convocatoria")
    [document] = documents(session, offer.id)
    token = csrf_token(signed_in.get(page).get_data(as_text=True))
    public_url = f"/opportunities/{offer.id}/documents/{document.id}"
    assert signed_in.get(public_url).status_code == 404
    signed_in.post(
        f"/staff/documents/{document.id}/visibility", data={"csrf_token": token, "public": "1"}
    )
    assert signed_in.get(public_url).status_code == 200
    signed_in.post(f"/staff/documents/{document.id}/remove", data={"csrf_token": token})
    assert documents(session, offer.id) == []
    assert not any(p.is_file() for p in settings.documents_path.rglob("*") if "tmp" not in p.parts)


def test_the_public_page_lists_and_serves_public_documents_only(client, session, settings):
    from services.documents import store

    offer = f.offer(session, title="Fondo de agua")
    shown = store.attach(
        session, settings, offer, "TdR <2027>.pdf", io.BytesIO(files.pdf([CALL])), public=True
    )
    hidden = store.attach(session, settings, offer, "notes.txt", io.BytesIO(b"internal"))
    html = client.get(f"/opportunities/{offer.id}").get_data(as_text=True)
    assert f"/opportunities/{offer.id}/documents/{shown.id}" in html
    assert "TdR _2027.pdf" in html and "notes.txt" not in html
    response = client.get(f"/opportunities/{offer.id}/documents/{shown.id}")
    assert response.status_code == 200
    assert response.data == files.pdf([CALL])
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert client.get(f"/opportunities/{offer.id}/documents/{hidden.id}").status_code == 404
    assert client.get(f"/staff/documents/{hidden.id}").status_code == 302  # to sign in
    other = f.offer(session)
    assert client.get(f"/opportunities/{other.id}/documents/{shown.id}").status_code == 404
    offer.status = "closed"
    session.commit()
    assert client.get(f"/opportunities/{offer.id}/documents/{shown.id}").status_code == 404


def test_search_on_the_public_page_finds_document_words(client, session, settings):
    from services.documents import store

    offer = f.offer(session, title="Fondo general", description="Apoyo.")
    document = store.attach(
        session,
        settings,
        offer,
        "t.docx",
        io.BytesIO(files.docx(["Humedales urbanos"])),
        public=True,
    )
    store.extract(session, settings, document.id)
    html = client.get("/opportunities?q=humedales").get_data(as_text=True)
    assert "Fondo general" in html


# -- the API ----------------------------------------------------------------------------------


def api_upload(client, raw: str, url: str, name: str, data: bytes, public: str = "true"):
    return client.post(
        url,
        headers=f.auth(raw),
        data={"file": (io.BytesIO(data), name), "public": public},
        content_type="multipart/form-data",
    )


def test_partners_attach_to_their_own_offers_through_the_api(client, session):
    org = f.organization(session)
    offer = f.offer(session, org=org, status="submitted")
    stranger = f.offer(session)
    _, raw = f.token(session, role="partner", organization_id=org.id)
    response = api_upload(
        client, raw, f"/api/v1/offers/{offer.id}/documents", "c.pdf", files.pdf([CALL])
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["public"] is True and body["media_type"] == "application/pdf"
    assert body["extraction_state"] == "pending"  # the answer comes before the task runs
    assert response.headers["Location"] == f"/api/v1/documents/{body['id']}"
    again = client.get(f"/api/v1/documents/{body['id']}", headers=f.auth(raw)).json
    assert again["extraction_state"] == "done"
    listed = client.get(f"/api/v1/offers/{offer.id}/documents", headers=f.auth(raw)).json
    assert [d["id"] for d in listed["items"]] == [body["id"]]
    content = client.get(body["links"]["content"], headers=f.auth(raw))
    assert (
        content.data == files.pdf([CALL]) and "attachment" in content.headers["Content-Disposition"]
    )
    assert (
        api_upload(
            client, raw, f"/api/v1/offers/{stranger.id}/documents", "c.pdf", b"x"
        ).status_code
        == 404
    )
    project = f.project(session)
    assert (
        api_upload(
            client, raw, f"/api/v1/projects/{project.id}/documents", "c.txt", b"x"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/documents/{body['id']}", headers=f.auth(raw)).status_code == 204


def test_api_refusals_use_the_error_shape(client, session, app):
    _, raw = f.token(session)
    offer = f.offer(session)
    url = f"/api/v1/offers/{offer.id}/documents"
    refused = api_upload(client, raw, url, "e.pdf", files.encrypted_pdf(["x"]))
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "validation_error" and "encrypted" in error["fields"]["file"][0]
    maybe = api_upload(client, raw, url, "a.txt", b"words", public="maybe")
    assert maybe.status_code == 422 and "public" in maybe.json["error"]["fields"]
    missing = client.post(url, headers=f.auth(raw), data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["error"]["fields"]
    runtime = app.extensions["coopmatch"]
    runtime.settings = replace(runtime.settings, document_max_mb=1)
    big = api_upload(client, raw, url, "big.txt", b"a" * (1024 * 1024 + 10))
    assert big.status_code == 413 and big.json["error"]["code"] == "too_large"
    huge = api_upload(client, raw, url, "huge.txt", b"a" * (4 * 1024 * 1024))
    assert huge.status_code == 413  # past the request limit itself
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


# -- the public form --------------------------------------------------------------------------


def test_the_public_form_takes_call_documents(client, session):
    response = send(
        client, "en", documents=[(io.BytesIO(files.docx(CALL)), "TdR.docx")], title="Fondo con TdR"
    )
    assert response.status_code == 302
    offer = session.scalar(sa.select(Offer).where(Offer.title == "Fondo con TdR"))
    [document] = documents(session, offer.id)
    assert document.public and document.filename == "TdR.docx"
    assert document.extraction_state == ExtractionState.DONE


def test_a_bad_document_on_the_public_form_loses_nothing(client, session):
    response = send(
        client,
        "en",
        documents=[
            (io.BytesIO(files.encrypted_pdf(["x"])), "locked.pdf"),
            (io.BytesIO(b"Plain call text"), "call.txt"),
        ],
        title="Fondo con un PDF cifrado",
    )
    assert response.status_code == 302
    offer = session.scalar(sa.select(Offer).where(Offer.title == "Fondo con un PDF cifrado"))
    assert offer is not None  # the offer is saved first
    assert [d.filename for d in documents(session, offer.id)] == ["call.txt"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your offer is saved, but “locked.pdf” was not attached" in page


def test_the_opportunity_page_shows_more_like_this(client, session, settings):
    from services.matching import scoring

    water = f.offer(session, title="Drinking water for hillsides", description="Aqueducts.")
    twin = f.offer(session, title="Agua potable en laderas", description="Acueductos.")
    scoring.score_offer(session, settings, water.id)
    html = client.get(f"/opportunities/{water.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    section = html.split('id="similar-heading"', 1)[1]
    assert "More like this" in section and f"/opportunities/{twin.id}" in section
    alone = client.get(f"/opportunities/{twin.id}").get_data(as_text=True)
    assert "similar-heading" not in alone  # not scored yet: no section at all


def test_the_staff_offer_page_shows_more_like_this(signed_in, session, settings):
    from services.matching import scoring

    water = f.offer(session, title="Drinking water for hillsides", description="Aqueducts.")
    twin = f.offer(session, title="Agua potable en laderas", description="Acueductos.")
    scoring.score_offer(session, settings, water.id)
    html = signed_in.get(f"/staff/offers/{water.id}").get_data(as_text=True)
    section = html.split("More like this", 1)[1]
    assert f"/staff/offers/{twin.id}" in section


def test_a_partner_adds_a_document_from_the_follow_page(client, session):
    response = send(client, "en", title="Fondo sin TdR")
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/offers/follow/[^"]+)"', follow).group(1)
    page = client.get(link).get_data(as_text=True)
    token = link.rsplit("/", 1)[1]
    url = f"/offers/follow/{token}/documents"
    refused = client.post(
        url,
        data={
            "file": (io.BytesIO(files.encrypted_pdf(["x"])), "tdr.pdf"),
            "csrf_token": csrf_token(page),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "cifrado o protegido con contraseña" in refused.get_data(as_text=True)
    added = client.post(
        url,
        data={"file": (io.BytesIO(files.pdf([CALL])), "tdr.pdf"), "csrf_token": csrf_token(page)},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    offer = session.scalar(sa.select(Offer).where(Offer.title == "Fondo sin TdR"))
    [document] = documents(session, offer.id)
    assert document.public and document.extraction_state == ExtractionState.DONE
    assert "tdr.pdf" in client.get(link).get_data(as_text=True)
