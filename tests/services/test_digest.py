"""Digests: who gets which matches, in how many queries, sent once, unsubscribed by link."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import sqlalchemy as sa

from models import DigestSend, Match
from models.digests import DigestSendStatus, Subscription, SubscriptionStatus
from services import clock
from services.digest import delivery as digest_delivery
from services.digest import preview as digest_preview
from services.digest import selection as digest_selection
from services.digest import sending
from services.digest import subscriptions as digest_subs
from services.errors import Invalid
from tests import digest_world
from tests import factories as f
from tests.digest_world import NOW, WEEK


@pytest.fixture
def world(session):
    return digest_world.seed(session)


def _chosen(session, settings, now=NOW) -> dict[int, list[int]]:
    period = digest_selection.period_of(now, settings.timezone)
    digest_selection.refresh_marks(session, now)
    return {
        d.subscription_id: [i for i, _ in d.items]
        for d in digest_delivery.build_digests(session, settings, period, now)
    }


def _mails(settings) -> list[email.message.EmailMessage]:
    folder = settings.mail_dir
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def test_period_is_the_iso_week_in_the_agency_time_zone():
    # Monday 2026-11-30 03:00 UTC is still Sunday 22:00 in Bogotá: the previous ISO week.
    assert (
        digest_selection.period_of(datetime(2026, 11, 30, 3, tzinfo=UTC), "America/Bogota")
        == "2026-W48"
    )
    assert (
        digest_selection.period_of(datetime(2026, 11, 30, 6, tzinfo=UTC), "America/Bogota")
        == "2026-W49"
    )
    assert digest_selection.period_of(datetime(2026, 11, 30, 3, tzinfo=UTC), "UTC") == "2026-W49"


def test_retry_delay_grows_exponentially_up_to_a_cap():
    assert [digest_delivery.retry_delay(n) for n in (1, 2, 3)] == [60, 120, 240]
    assert digest_delivery.retry_delay(30) == sending.DEFAULT_RETRY_MAX


def test_each_subscriber_gets_the_live_matches_that_pass_its_filters(session, settings, world):
    chosen = _chosen(session, settings)
    m, s = world.matches, world.subs
    assert chosen == {
        s["ana"].id: [m["water"].id, m["school"].id],  # min score 50 %, best first
        s["bob"].id: [m["school"].id],  # human development only
        s["partner_a"].id: [m["water"].id, m["school"].id],  # its own offers
        s["partner_b"].id: [m["jobs"].id],
    }  # nobody gets the withdrawn match, the closed project's, or anything when paused


def test_an_offer_no_longer_published_drops_out(session, settings, world):
    world.offers["a_school"].status = "withdrawn"
    session.commit()
    chosen = _chosen(session, settings)
    assert world.matches["school"].id not in chosen[world.subs["ana"].id]
    assert world.subs["bob"].id not in chosen


def test_build_takes_the_same_few_queries_for_any_number_of_subscribers(session, settings, world):
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):  # the test's own
            statements.append(statement)

    engine = session.get_bind().engine
    period = digest_selection.period_of(NOW, settings.timezone)
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        digest_delivery.build_digests(session, settings, period, NOW)
        few = len(statements)
        for n in range(30):
            person = digest_world.user(session, f"extra{n}@agency.example")
            digest_subs.save_subscription(
                session, person, min_score=0.3, now=NOW - timedelta(days=3)
            )
        for n in range(10):
            f.match(
                session,
                f.project(session),
                world.offers["a_water"],
                score=0.5 + n / 100,
                created_at=NOW - timedelta(days=1),
            )
        statements.clear()
        digests = digest_delivery.build_digests(session, settings, period, NOW)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == few <= 3
    assert len(digests) == 4 + 30


def test_a_rise_of_five_points_counts_as_improved_a_smaller_one_does_not(session, settings, world):
    digest_delivery.send_weekly(session, settings, now=NOW)
    water, school = world.matches["water"], world.matches["school"]
    water.score, school.score = 0.90, 0.66  # +8 and +2 points
    session.commit()
    later = NOW + WEEK
    assert _chosen(session, settings, later) == {
        world.subs["ana"].id: [water.id],
        world.subs["partner_a"].id: [water.id],
    }


def test_a_new_match_appears_in_the_next_week_only(session, settings, world):
    first = digest_delivery.send_weekly(session, settings, now=NOW)
    assert first.sent == 4
    later = NOW + WEEK
    new = f.match(
        session,
        world.projects["school"],
        world.offers["a_water"],
        score=0.7,
        created_at=NOW + timedelta(days=3),
    )
    second = digest_delivery.send_weekly(session, settings, now=later)
    assert second.sent == 3 and second.period != first.period
    rows = session.scalars(sa.select(DigestSend).where(DigestSend.period == second.period))
    assert {r.subscription_id: r.items for r in rows} == {
        sub.id: [[new.id, 0.7]]
        for sub in (world.subs["ana"], world.subs["bob"], world.subs["partner_a"])
    }


def test_weekly_run_sends_once_to_files_and_a_second_run_sends_nothing(session, settings, world):
    first = digest_delivery.send_weekly(session, settings, now=NOW)
    assert (first.reserved, first.sent, first.failed) == (4, 4, [])
    mails = _mails(settings)
    assert sorted(m["To"] for m in mails) == [
        "ana@agency.example",
        "bob@agency.example",
        "partner-a@ally.example",
        "partner-b@ally.example",
    ]
    again = digest_delivery.send_weekly(session, settings, now=NOW + timedelta(hours=1))
    assert (again.reserved, again.sent) == (0, 0)
    assert len(_mails(settings)) == 4
    sub = session.get(Subscription, world.subs["ana"].id)
    session.refresh(sub)
    assert sub.last_period == first.period
    row = session.scalar(sa.select(DigestSend).where(DigestSend.subscription_id == sub.id))
    assert row.status == DigestSendStatus.SENT and row.attempts == 1 and row.match_count == 2
    assert row.message_id == f"<digest-{sub.id}-{first.period}@coopmatch.invalid>"


def test_a_pending_row_left_by_a_crash_is_sent_by_the_next_run(session, settings, world):
    period = digest_selection.period_of(NOW, settings.timezone)
    digest_selection.refresh_marks(session, NOW)
    digest_delivery._reserve(
        session, period, digest_delivery.build_digests(session, settings, period, NOW)
    )
    session.commit()  # the process died here: rows reserved, nothing sent
    ana = world.subs["ana"].id
    # and this one was being sent by a worker that died after claiming it
    session.execute(
        sa.update(DigestSend)
        .where(DigestSend.subscription_id == ana)
        .values(claimed_at=NOW, attempts=1)
    )
    session.commit()
    resumed = digest_delivery.send_weekly(session, settings, now=NOW + timedelta(minutes=1))
    assert (resumed.reserved, resumed.sent) == (0, 3)  # the fresh claim is left alone
    late = digest_delivery.send_weekly(session, settings, now=NOW + timedelta(minutes=10))
    assert late.sent == 1  # its claim expired: resumed, once
    assert len(_mails(settings)) == 4
    row = session.scalar(sa.select(DigestSend).where(DigestSend.subscription_id == ana))
    assert row.status == DigestSendStatus.SENT and row.attempts == 2


def test_paused_or_unsubscribed_after_reservation_receives_nothing(session, settings, world):
    period = digest_selection.period_of(NOW, settings.timezone)
    digest_selection.refresh_marks(session, NOW)
    digest_delivery._reserve(
        session, period, digest_delivery.build_digests(session, settings, period, NOW)
    )
    session.commit()
    digest_subs.save_subscription(session, world.users["ana"], status="paused", now=NOW)
    digest_subs.unsubscribe(session, world.subs["bob"], now=NOW)
    result = digest_delivery.send_weekly(session, settings, now=NOW)
    assert result.sent == 2
    assert sorted(m["To"] for m in _mails(settings)) == [
        "partner-a@ally.example",
        "partner-b@ally.example",
    ]


def test_long_lists_are_cut_with_a_link_to_all(session, settings, world):
    settings = type(settings)(**{**settings.__dict__, "digest_max_items": 2})
    for n in range(3):
        f.match(
            session,
            f.project(session, title=f"Proyecto extra {n}"),
            world.offers["b_jobs"],
            score=0.6 + n / 100,
            created_at=NOW - WEEK / 2,
        )
    digest_delivery.send_weekly(session, settings, now=NOW)
    row = session.scalar(
        sa.select(DigestSend).where(DigestSend.subscription_id == world.subs["partner_b"].id)
    )
    assert row.match_count == 4 and len(row.items) == 2
    (mail,) = [m for m in _mails(settings) if m["To"] == "partner-b@ally.example"]
    text = mail.get_body(("plain",)).get_content()
    assert "Ver las 4 coincidencias" in text
    assert f"{settings.base_url}/digest/sends/{row.id}" in text
    everything = digest_preview.send_matches(session, settings, row)
    assert [i.score for i in everything] == pytest.approx([0.62, 0.61, 0.6, 0.45])


def test_email_is_multipart_in_the_subscribers_language(session, settings, world):
    digest_delivery.send_weekly(session, settings, now=NOW)
    mails = {m["To"]: m for m in _mails(settings)}
    bob, ana = mails["bob@agency.example"], mails["ana@agency.example"]
    assert bob.get_content_type() == "multipart/alternative"
    assert bob["Subject"] == "CoopMatch: 1 new match this week"
    assert ana["Subject"] == "CoopMatch: 2 coincidencias nuevas esta semana"
    html = ana.get_body(("html",)).get_content()
    assert "Ambos tratan de agua potable." in html and "Both are about" not in html
    assert "82" in html and "<img" not in html and "<style" not in html
    assert f"/staff/projects/{world.projects['water'].id}#match-" in html
    partner = mails["partner-a@ally.example"].get_body(("plain",)).get_content()
    assert f"/digest/offers/{world.offers['a_water'].id}/matches" in partner
    assert "Both are about drinking water." in partner


def test_unsubscribe_token_works_once_and_rejects_tampering(session, settings, world):
    sub = world.subs["ana"]
    token = digest_subs.unsubscribe_token(settings.secret_key, sub)
    assert digest_subs.read_unsubscribe_token(session, settings.secret_key, token).id == sub.id
    assert digest_subs.unsubscribe(session, sub) is True
    assert digest_subs.unsubscribe(session, sub) is False
    assert sub.status == SubscriptionStatus.UNSUBSCRIBED
    with pytest.raises(digest_subs.InvalidLink):
        digest_subs.read_unsubscribe_token(session, settings.secret_key, token[:-2] + "xy")
    with pytest.raises(digest_subs.InvalidLink):
        digest_subs.read_unsubscribe_token(session, "another-secret-key-entirely", token)
    with pytest.raises(digest_subs.LinkExpired):
        digest_subs.read_unsubscribe_token(
            session, settings.secret_key, token, max_age=timedelta(seconds=-1)
        )


def test_partners_with_offers_are_subscribed_once_and_keep_unsubscribing(session, world):
    assert digest_subs.ensure_partner_subscriptions(session) == 0
    lonely = f.organization(session, name="No Offers Yet")
    newcomer = digest_world.user(session, "new@ally.example", "partner", "es", lonely.id)
    assert digest_subs.ensure_partner_subscriptions(session) == 0  # no offers: nothing to tell
    f.offer(session, lonely)
    assert digest_subs.ensure_partner_subscriptions(session) == 1
    assert digest_subs.subscription_of(session, newcomer).language == "es"
    digest_subs.unsubscribe(session, world.subs["partner_a"])
    assert digest_subs.ensure_partner_subscriptions(session) == 0
    assert world.subs["partner_a"].status == SubscriptionStatus.UNSUBSCRIBED


def test_subscription_form_errors_are_per_field(session, world):
    with pytest.raises(Invalid) as caught:
        digest_subs.save_subscription(
            session,
            world.users["ana"],
            lines=["nonsense"],
            min_score=2,
            language="fr",
            status="asleep",
        )
    assert set(caught.value.fields) == {"lines", "min_score", "language", "status"}


def test_coming_back_from_a_pause_gets_only_the_last_week(session, world):
    ana = world.users["ana"]
    digest_subs.save_subscription(session, ana, status="paused", now=NOW)
    sub = digest_subs.save_subscription(session, ana, status="active", now=NOW + 10 * WEEK)
    assert clock.aware(sub.covered_until) == NOW + 9 * WEEK


def test_preview_is_this_weeks_digest_without_sending(session, settings, world):
    shown = digest_preview.preview(session, settings, world.subs["ana"], now=NOW)
    assert shown.match_count == 2 and shown.sent is None
    assert "Vista previa" in shown.email.html
    assert not _mails(settings)
    empty = digest_preview.preview(session, settings, world.subs["paused"], now=NOW)
    assert empty.email is not None  # a paused subscriber's preview still shows its matches
    assert digest_preview.send_preview(session, settings, world.subs["bob"], "me@agency.example")
    (sent,) = _mails(settings)
    assert sent["To"] == "me@agency.example"
    assert session.scalar(sa.select(sa.func.count()).select_from(DigestSend)) == 0


def test_withdrawn_matches_after_sending_do_not_change_the_sent_row(session, settings, world):
    digest_delivery.send_weekly(session, settings, now=NOW)
    session.execute(sa.update(Match).values(status="withdrawn"))
    session.commit()
    assert digest_delivery.send_weekly(session, settings, now=NOW + WEEK).reserved == 0


def test_an_unsubscribe_link_works_once_even_after_subscribing_again(session, settings, world):
    sub = world.subs["ana"]
    old_link = digest_subs.unsubscribe_token(settings.secret_key, sub)
    found = digest_subs.read_unsubscribe_token(session, settings.secret_key, old_link)
    assert digest_subs.unsubscribe(session, found)
    # Clicked again while unsubscribed: it names the subscription ("already unsubscribed").
    assert digest_subs.read_unsubscribe_token(session, settings.secret_key, old_link).id == sub.id
    digest_subs.save_subscription(session, world.users["ana"], status="active", now=NOW)
    with pytest.raises(digest_subs.InvalidLink):
        digest_subs.read_unsubscribe_token(session, settings.secret_key, old_link)
    new_link = digest_subs.unsubscribe_token(settings.secret_key, sub)
    assert new_link != old_link
    assert digest_subs.read_unsubscribe_token(session, settings.secret_key, new_link).id == sub.id
