"""Saved searches: saving, email subscription with double opt-in, and the emails of what is new,
exactly once per period through the digest's delivery machinery."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import sqlalchemy as sa

from models import Offer, SavedSearch, SavedSearchSend
from models.digests import DigestSendStatus
from models.searches import SearchStatus
from services import signed_links, user_admin
from services.errors import Forbidden, Invalid
from services.searches import delivery, store
from tests import factories as f

# Friday 2026-12-04 15:00 in Bogotá (UTC-5): after the digest hour (7), a Friday.
NOW = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)


def messages(settings) -> list[email.message.EmailMessage]:
    folder = settings.mail_dir
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def published(session, when: datetime, **kw) -> Offer:
    offer = f.offer(session, **kw)
    offer.published_at = when
    session.commit()
    return offer


@pytest.fixture
def staff(session):
    return user_admin.create_user(session, "ana@agency.example", "staff", "a-long-password")


@pytest.fixture
def partner(session):
    org = f.organization(session)
    return user_admin.create_user(
        session, "p@ally.example", "partner", "a-long-password", organization_id=org.id
    )


def test_periods_follow_the_frequency_in_the_agency_time_zone(settings):
    settings = replace(settings, search_interval=300, digest_hour=7, digest_weekday=1)
    assert delivery.period_of("immediate", NOW, settings) == "2026-12-04T15:00"
    assert delivery.period_of("immediate", NOW + timedelta(minutes=7), settings) == (
        "2026-12-04T15:05"
    )
    assert delivery.period_of("daily", NOW, settings) == "2026-12-04"
    early = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)  # 06:00 in Bogotá: before the hour
    assert delivery.period_of("daily", early, settings) is None
    assert delivery.period_of("weekly", NOW, settings) == "2026-W49"  # Friday, after Monday 7:00
    monday_early = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # Monday 06:00 in Bogotá
    assert delivery.period_of("weekly", monday_early, settings) is None


def test_saving_checks_the_name_the_filters_and_who_may_save_queue_searches(
    session, staff, partner
):
    with pytest.raises(Invalid) as caught:
        store.save(
            session, staff, scope="opportunities", name=" ", params={"line": "x", "q": "agua"}
        )
    assert set(caught.value.fields) == {"name", "line"}
    with pytest.raises(Forbidden):
        store.save(session, partner, scope="queue", name="mine", params={})
    saved = store.save(
        session,
        partner,
        scope="opportunities",
        name="  Agua   limpia ",
        params={"q": "agua", "line": "", "country": "co"},
    )
    assert (saved.name, saved.params, saved.status) == (
        "Agua limpia",
        {"q": "agua", "country": "CO"},
        SearchStatus.SAVED,
    )
    queue = store.save(
        session, staff, scope="queue", name="Top", params={"min_score": "0.7"}, frequency="daily"
    )
    assert queue.params == {"min_score": "0.7", "status": "open"}
    assert queue.status == SearchStatus.SUBSCRIBED and queue.covered_until is not None
    assert [s.id for s in store.list_for(session, staff)] == [queue.id]


def test_an_email_subscription_waits_for_its_confirmation_link(session, settings):
    search = store.subscribe_by_email(
        session,
        email="Someone@Example.org",
        name="Agua",
        params={"q": "agua"},
        frequency="weekly",
        language="en",
        now=NOW,
    )
    assert (search.email, search.status) == ("someone@example.org", SearchStatus.PENDING)
    token = store.confirmation_token(settings.secret_key, search)
    with pytest.raises(signed_links.InvalidLink):
        store.read_confirmation(session, settings.secret_key, token[:-3] + "abc")
    found = store.read_confirmation(session, settings.secret_key, token)
    active, started = store.confirm(session, found, now=NOW)
    assert started and active.status == SearchStatus.SUBSCRIBED
    assert store.confirm(session, found, now=NOW) == (active, False)  # the link works once


def test_asking_again_reuses_the_request_and_a_flood_sends_nothing_more(session):
    def ask(**kw):
        values = dict(
            email="a@example.org", name="n", params={}, frequency="daily", language="es", now=NOW
        )
        return store.subscribe_by_email(session, **{**values, **kw})

    first = ask()
    assert ask().id == first.id
    for n in range(store.MAX_PENDING_PER_EMAIL - 1):
        assert ask(params={"q": f"word{n}"}) is not None
    assert ask(params={"q": "one too many"}) is None
    with pytest.raises(Invalid) as caught:
        ask(email="not an address")
    assert "email" in caught.value.fields


def test_confirming_the_same_search_twice_keeps_one_subscription(session, settings):
    def confirmed(frequency):
        search = store.subscribe_by_email(
            session,
            email="b@example.org",
            name="Agua",
            params={"q": "agua"},
            frequency=frequency,
            language="es",
            now=NOW,
        )
        return store.confirm(session, search, now=NOW)

    first, _ = confirmed("weekly")
    second, started = confirmed("daily")
    assert started and second.id == first.id and str(second.frequency) == "daily"
    rows = session.scalars(sa.select(SavedSearch).where(SavedSearch.email == "b@example.org"))
    assert len(list(rows)) == 1


def test_unconfirmed_requests_are_purged_after_a_week(session):
    store.subscribe_by_email(
        session, email="c@example.org", name="n", params={}, frequency="daily", language="es"
    )
    assert store.purge_unconfirmed(session, now=datetime.now(UTC) + timedelta(days=8)) == 1


def _subscribed_by_email(session, frequency="immediate", params=None, at=NOW - timedelta(days=1)):
    search = store.subscribe_by_email(
        session,
        email="reader@example.org",
        name="Agua",
        params=params or {"q": "agua"},
        frequency=frequency,
        language="en",
        now=at,
    )
    store.confirm(session, search, now=at)
    return search


def test_new_opportunities_are_emailed_once_with_one_click_unsubscribe(session, settings):
    search = _subscribed_by_email(session)
    before = published(session, NOW - timedelta(days=2), title="Agua vieja")
    fresh = published(session, NOW - timedelta(hours=2), title="Agua nueva para laderas")
    published(session, NOW - timedelta(hours=1), title="Unrelated housing fund")
    published(session, NOW - timedelta(hours=1), title="Agua cerrada", status="submitted")
    result = delivery.send_due(session, settings, now=NOW)
    assert (result.reserved, result.sent, result.failed) == (1, 1, [])
    [message] = messages(settings)
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "CoopMatch: 1 new opportunity for “Agua”"
    text = message.get_body(("plain",)).get_content()
    assert "Agua nueva para laderas" in text and before.title not in text
    assert f"/opportunities/{fresh.id}" in text and "/opportunities?q=agua" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert "/searches/unsubscribe/" in link and link in text
    assert message["Message-ID"].startswith(f"<search-{search.id}-2026-12-04T1500@")

    # The same period again: nothing new is sent; the next one has nothing new either.
    again = delivery.send_due(session, settings, now=NOW + timedelta(minutes=1))
    later = delivery.send_due(session, settings, now=NOW + timedelta(minutes=10))
    assert (again.sent, later.reserved, later.sent) == (0, 0, 0)
    assert len(messages(settings)) == 1

    # One more offer: the next period sends only that one.
    published(session, NOW + timedelta(minutes=12), title="Agua para escuelas")
    third = delivery.send_due(session, settings, now=NOW + timedelta(minutes=15))
    assert third.sent == 1
    texts = [m.get_body(("plain",)).get_content() for m in messages(settings)]
    [newer] = [t for t in texts if "Agua para escuelas" in t]
    assert len(texts) == 2 and "Agua nueva" not in newer


def test_nothing_is_sent_before_confirmation_or_after_unsubscribing(session, settings):
    store.subscribe_by_email(
        session,
        email="pending@example.org",
        name="Agua",
        params={"q": "agua"},
        frequency="immediate",
        language="es",
        now=NOW - timedelta(days=1),
    )
    search = _subscribed_by_email(session)
    assert store.unsubscribe(session, search, now=NOW) is True
    assert store.unsubscribe(session, search, now=NOW) is False
    published(session, NOW - timedelta(hours=1), title="Agua nueva")
    assert delivery.send_due(session, settings, now=NOW).reserved == 0
    assert messages(settings) == []


def test_daily_and_weekly_searches_wait_for_their_hour(session, settings):
    _subscribed_by_email(session, frequency="daily")
    published(session, NOW - timedelta(hours=20), title="Agua de madrugada")
    early = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)  # 06:00 in Bogotá
    assert delivery.send_due(session, settings, now=early).reserved == 0
    assert delivery.send_due(session, settings, now=NOW).sent == 1


def test_queue_searches_email_the_new_matches_that_fit_the_filter(session, settings, staff):
    project = f.project(session, title="Proyecto de agua", lines=["sustainable_territory"])
    old = f.match(session, project, f.offer(session), score=0.9)
    old.created_at = NOW - timedelta(days=3)
    search = store.save(
        session,
        staff,
        scope="queue",
        name="Buenas",
        params={"min_score": "0.6"},
        frequency="immediate",
        now=NOW - timedelta(days=1),
    )
    good = f.match(session, project, f.offer(session), score=0.8)
    weak = f.match(session, project, f.offer(session), score=0.3)
    for match in (good, weak):
        match.created_at = NOW - timedelta(hours=1)
    session.commit()
    assert delivery.send_due(session, settings, now=NOW).sent == 1
    [message] = messages(settings)
    assert message["To"] == "ana@agency.example"
    assert message["Subject"] == "CoopMatch: 1 coincidencia nueva para «Buenas»"
    html = message.get_body(("html",)).get_content()
    assert f"/staff/projects/{project.id}#match-{good.id}" in html
    assert f"#match-{weak.id}" not in html and f"#match-{old.id}" not in html
    assert "/searches" in html  # an account manages its searches there
    row = session.scalar(
        sa.select(SavedSearchSend).where(SavedSearchSend.saved_search_id == search.id)
    )
    assert row.status == DigestSendStatus.SENT and row.items == [[good.id, 0.8]]


def test_a_refused_email_is_retried_alone_and_sent_once(session, settings, monkeypatch):
    search = _subscribed_by_email(session)
    published(session, NOW - timedelta(hours=1), title="Agua nueva")
    from services import mail

    real_send = mail.send
    calls = {"n": 0}

    def refuse_once(settings_, message):
        calls["n"] += 1
        if calls["n"] == 1:
            raise mail.MailError("recipient refused: reader@example.org")
        real_send(settings_, message)

    monkeypatch.setattr(mail, "send", refuse_once)
    result = delivery.send_due(session, settings, now=NOW)
    assert result.failed == [(search.id, "2026-12-04T15:00")] and result.sent == 0
    row = session.scalar(sa.select(SavedSearchSend))
    assert row.status == DigestSendStatus.FAILED and "refused" in row.last_error
    sent = delivery.send_one(session, settings, search.id, "2026-12-04T15:00", now=NOW)
    assert sent is not None and sent.attempts == 2
    assert delivery.send_one(session, settings, search.id, "2026-12-04T15:00", now=NOW) is None
    assert len(messages(settings)) == 1
