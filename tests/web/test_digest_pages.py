"""Digest pages: own subscription, preview and send-to-me, one-click unsubscribe without login."""

from __future__ import annotations

import email
from email import policy

import pytest
import sqlalchemy as sa

from models import DigestSend
from models.digests import SubscriptionStatus
from services import credentials
from services.digest import delivery as digest_delivery
from services.digest import subscriptions as digest_subs
from tests import digest_world
from tests import factories as f
from tests.web.helpers import csrf_token, post_form, sign_in


@pytest.fixture
def world(session):
    return digest_world.seed(session)


@pytest.fixture
def staff(session):
    return digest_world.user(session, "carla@agency.example", password="a-long-password")


def _mails(settings):
    folder = settings.mail_dir
    return (
        [
            email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*.eml"))
        ]
        if folder.exists()
        else []
    )


def test_staff_subscribe_themselves_and_errors_show_beside_the_field(client, session, staff):
    sign_in(client, staff.email)
    page = client.get("/digest/subscriptions")
    assert page.status_code == 200 and "Resumen semanal" in page.get_data(as_text=True)
    bad = post_form(
        client, "/digest/subscriptions", {"min_score": "150", "language": "en", "status": "active"}
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'aria-invalid="true"' in html and "min_score-errors" in html
    assert digest_subs.subscription_of(session, staff) is None
    saved = post_form(
        client,
        "/digest/subscriptions",
        {
            "lines": ["human_development", "governance_peace"],
            "min_score": "60",
            "language": "en",
            "status": "paused",
        },
    )
    assert saved.status_code == 302
    sub = digest_subs.subscription_of(session, staff)
    assert (sub.lines, sub.min_score, sub.language, sub.status) == (
        ["governance_peace", "human_development"],
        0.6,
        "en",
        SubscriptionStatus.PAUSED,
    )


def test_staff_list_includes_partners_with_offers_and_previews_them(client, session, staff, world):
    sign_in(client, staff.email)
    html = client.get("/digest/subscriptions").get_data(as_text=True)
    assert "partner-a@ally.example" in html and "ana@agency.example" in html
    partner_a = world.subs["partner_a"]
    preview = client.get(f"/digest/preview/{partner_a.id}")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "CoopMatch: 2 new matches this week" in text  # the subscriber's language
    assert f'/digest/preview/{partner_a.id}/email.html"' in text
    framed = client.get(f"/digest/preview/{partner_a.id}/email.html")
    assert framed.status_code == 200
    assert "style-src 'unsafe-inline'" in framed.headers["Content-Security-Policy"]
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Drinking water grants" in framed.get_data(as_text=True)


def test_send_to_me_mails_the_preview_to_the_signed_in_staff_member(
    client, session, app, settings, staff, world
):
    sign_in(client, staff.email)
    url = f"/digest/preview/{world.subs['ana'].id}"
    html = client.get(url).get_data(as_text=True)
    sent = client.post(f"{url}/send-to-me", data={"csrf_token": csrf_token(html)})
    assert sent.status_code == 302
    (mail,) = _mails(settings)
    assert mail["To"] == staff.email
    assert mail["Subject"] == "CoopMatch: 2 coincidencias nuevas esta semana"
    assert session.scalar(sa.select(sa.func.count()).select_from(DigestSend)) == 0


def test_partners_cannot_preview_and_see_only_their_own_offers_matches(client, session, world):
    partner = world.users["partner_a"]
    partner.password_hash = credentials.hash_password("a-long-password")
    session.commit()
    sign_in(client, partner.email)
    assert client.get(f"/digest/preview/{world.subs['ana'].id}").status_code == 403
    own = client.get(f"/digest/offers/{world.offers['a_water'].id}/matches")
    assert own.status_code == 200
    assert f'id="match-{world.matches["water"].id}"' in own.get_data(as_text=True)
    assert client.get(f"/digest/offers/{world.offers['b_jobs'].id}/matches").status_code == 403


def test_one_click_unsubscribe_works_once_without_login(client, session, settings, world):
    sub = world.subs["bob"]  # English
    token = digest_subs.unsubscribe_token(settings.secret_key, sub)
    url = f"/digest/unsubscribe/{token}"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Stop the weekly CoopMatch digest" in confirm.get_data(as_text=True)
    # RFC 8058: the mail client POSTs this body, with no session and no CSRF token.
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    session.refresh(sub)
    assert sub.status == SubscriptionStatus.UNSUBSCRIBED
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 409 and "already used" in again.get_data(as_text=True)


def test_a_tampered_unsubscribe_link_is_rejected_clearly(client, session, settings, world):
    token = digest_subs.unsubscribe_token(settings.secret_key, world.subs["ana"])
    forged = client.post(
        f"/digest/unsubscribe/{token[:-3]}abc", data={"List-Unsubscribe": "One-Click"}
    )
    assert forged.status_code == 400
    assert "no es válido" in forged.get_data(as_text=True)
    session.refresh(world.subs["ana"])
    assert world.subs["ana"].status == SubscriptionStatus.ACTIVE


def test_the_see_all_page_is_for_the_subscriber_and_staff(client, session, settings, world, staff):
    digest_delivery.send_weekly(session, settings)
    row = session.scalar(
        sa.select(DigestSend).where(DigestSend.subscription_id == world.subs["ana"].id)
    )
    sign_in(client, staff.email)
    page = client.get(f"/digest/sends/{row.id}")
    assert page.status_code == 200
    assert "Agua para barrios de ladera" in page.get_data(as_text=True)
    other = f.organization(session)
    intruder = digest_world.user(
        session, "x@ally.example", "partner", "es", other.id, password="a-long-password"
    )
    client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    sign_in(client, intruder.email)
    assert client.get(f"/digest/sends/{row.id}").status_code == 403


def test_every_address_the_emails_link_to_is_a_page_of_the_app(app):
    """services/digest/links.py is the contract the worker writes emails by: each path opens
    the page it names, so a renamed route cannot leave emails pointing nowhere."""
    from services.digest import links

    expected = {
        links.STAFF_MATCH: "staff.project",
        links.PARTNER_MATCH: "digest.offer_matches",
        links.SUBSCRIPTIONS: "digest.subscriptions",
        links.UNSUBSCRIBE: "digest.unsubscribe",
        links.SENT_DIGEST: "digest.send_detail",
        links.PREVIEW: "digest.preview",
        links.OPPORTUNITIES: "opportunities.index",
        links.OPPORTUNITY: "opportunities.detail",
        links.QUEUE: "staff.queue",
        links.SAVED_SEARCHES: "searches.index",
        links.SEARCH_CONFIRM: "searches.confirm",
        links.SEARCH_UNSUBSCRIBE: "searches.unsubscribe",
    }
    values = {"project_id": 1, "match_id": 2, "offer_id": 3, "token": "t", "send_id": 4}
    adapter = app.url_map.bind("coopmatch.test")
    for path, endpoint in expected.items():
        filled = path.format(subscription_id=5, **values).split("#")[0]
        assert adapter.match(filled, method="GET")[0] == endpoint, path
