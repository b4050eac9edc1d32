"""Digests over a real SMTP server (aiosmtpd on a free localhost port), and a real worker."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from models import DigestSend, Subscription, User
from models.digests import DigestSendStatus, SubscriptionStatus
from services.digest import delivery as digest_delivery
from services.digest import subscriptions as digest_subs
from tests import digest_world
from tests.conftest import OUTPUT_DIR
from tests.digest_world import NOW
from tests.integration.conftest import worker_environment
from tests.integration.workers import WorkerProcess, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def world(session):
    return digest_world.seed(session)


EXPECTED = {  # recipient: (language, subject, titles of the projects shown)
    "ana@agency.example": (
        "es",
        "CoopMatch: 2 coincidencias nuevas esta semana",
        ["Agua para barrios de ladera", "Primera infancia en comunas"],
    ),
    "bob@agency.example": (
        "en",
        "CoopMatch: 1 new match this week",
        ["Primera infancia en comunas"],
    ),
    "partner-a@ally.example": (
        "en",
        "CoopMatch: 2 new matches this week",
        ["Agua para barrios de ladera", "Primera infancia en comunas"],
    ),
    "partner-b@ally.example": (
        "es",
        "CoopMatch: 1 coincidencia nueva esta semana",
        ["Empleo joven"],
    ),
}


def test_a_week_sends_one_multipart_message_per_subscriber(
    session, smtp, smtp_settings, world, client
):
    result = digest_delivery.send_weekly(session, smtp_settings, now=NOW)
    assert (result.sent, result.failed) == (4, [])
    assert sorted(m["To"] for m in smtp.messages) == sorted(EXPECTED)
    for message in smtp.messages:
        lang, subject, titles = EXPECTED[message["To"]]
        assert message["Subject"] == subject
        assert message["From"] == "CoopMatch <digest@coopmatch.example>"
        assert message.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert f'<html lang="{lang}">' in html
        positions = [text.index(title) for title in titles]
        assert positions == sorted(positions)  # best first
        assert "Proyecto cerrado" not in text
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith("https://coopmatch.example/digest/unsubscribe/")
        assert link in text and link in html
    ana = smtp.to("ana@agency.example")[0].get_body(("html",)).get_content()
    assert f"https://coopmatch.example/staff/projects/{world.projects['water'].id}#match-" in ana
    assert "Ambos tratan de agua potable." in ana and "82" in ana

    # The token in the header unsubscribes once, without signing in; altered, it is refused.
    bob = smtp.to("bob@agency.example")[0]
    path = urlsplit(bob["List-Unsubscribe"].strip("<>")).path
    forged = client.post(path[:-4] + "AAAA", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 400
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 409
    session.refresh(world.subs["bob"])
    assert world.subs["bob"].status == SubscriptionStatus.UNSUBSCRIBED


def test_running_the_task_a_second_time_sends_nothing(session, smtp, smtp_settings, world):
    digest_delivery.send_weekly(session, smtp_settings, now=NOW)
    again = digest_delivery.send_weekly(session, smtp_settings, now=NOW)
    assert (again.reserved, again.sent, again.failed) == (0, 0, [])
    assert len(smtp.messages) == 4


def test_a_refused_recipient_does_not_block_the_others_and_is_sent_once_later(
    session, smtp, smtp_settings, world
):
    smtp.refuse["partner-a@ally.example"] = 1
    result = digest_delivery.send_weekly(session, smtp_settings, now=NOW)
    partner_a = world.subs["partner_a"].id
    assert result.failed == [partner_a] and result.sent == 3
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        set(EXPECTED) - {"partner-a@ally.example"}
    )
    row = session.scalar(sa.select(DigestSend).where(DigestSend.subscription_id == partner_a))
    assert row.status == DigestSendStatus.FAILED and row.attempts == 1
    assert "refused" in row.last_error
    retried = digest_delivery.send_one(session, smtp_settings, partner_a, result.period)
    assert retried is not None and retried.status == DigestSendStatus.SENT
    assert retried.attempts == 2
    assert digest_delivery.send_one(session, smtp_settings, partner_a, result.period) is None
    assert digest_delivery.send_weekly(session, smtp_settings, now=NOW).sent == 0
    assert len(smtp.to("partner-a@ally.example")) == 1 and len(smtp.messages) == 4


def test_unsubscribed_or_paused_subscribers_receive_nothing(session, smtp, smtp_settings, world):
    digest_subs.unsubscribe(session, world.subs["ana"])
    digest_subs.save_subscription(session, world.users["partner_b"], status="paused")
    digest_delivery.send_weekly(session, smtp_settings, now=NOW)
    assert sorted(m["To"] for m in smtp.messages) == [
        "bob@agency.example",
        "partner-a@ally.example",
    ]
    assert not smtp.to("paused@agency.example")


# -- the same through a real `celery worker` process ------------------------------------------


def test_a_worker_retries_the_refused_recipient_with_backoff(
    committed, pg_url, smtp, tmp_path, request
):
    with committed() as session:
        digest_world.seed(session)
    smtp.refuse["bob@agency.example"] = 2  # refused twice: by the weekly run and one retry
    env = worker_environment(pg_url, smtp.port, tmp_path)
    log = OUTPUT_DIR / "workers" / f"{request.node.name}.log"
    log.unlink(missing_ok=True)
    worker = WorkerProcess(env, log, concurrency=2, name="digest").start()
    try:
        import config as app_config
        from services import task_names
        from workers.celery_app import broker_client

        broker_client(app_config.from_env(env)).send_task(task_names.DIGEST_SEND_WEEKLY)

        def retried_and_sent():
            with committed() as session:
                return session.scalar(
                    sa.select(User.email)
                    .join(Subscription, Subscription.user_id == User.id)
                    .join(DigestSend, DigestSend.subscription_id == Subscription.id)
                    .where(DigestSend.status == DigestSendStatus.SENT, DigestSend.attempts == 3)
                )

        email_address = wait_for(
            retried_and_sent, timeout=60, what="the refused digest to be sent on its second retry"
        )
        assert email_address == "bob@agency.example"
        assert smtp.refused == ["bob@agency.example"] * 2
        wait_for(lambda: len(smtp.messages) == 4, timeout=10, what="four messages")
        assert len(smtp.to("bob@agency.example")) == 1
    finally:
        worker.stop()
