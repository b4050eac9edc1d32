"""Deadline reminders and mention emails over a real SMTP server (aiosmtpd): which matches get
one, exactly once per (match, threshold), in the owner's language; and through a real
`celery worker` with a refused recipient retried."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Alliance, DeadlineReminder, NoteMention
from models.digests import DigestSendStatus
from services import clock, reviews, user_admin
from services.work import notes, reminders
from tests import factories as f
from tests.conftest import OUTPUT_DIR
from tests.integration.conftest import worker_environment
from tests.integration.workers import WorkerProcess, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def owners(session):
    ana = user_admin.create_user(
        session, "ana@agency.gov.co", "staff", "a-long-password", name="Ana", language="en"
    )
    luis = user_admin.create_user(
        session, "luis@agency.gov.co", "staff", "a-long-password", name="Luis", language="es"
    )
    return ana, luis


def _followed(session, owner, days: int, status="shortlisted", status_of_offer="published"):
    today = clock.agency_today("America/Bogota")
    project = f.project(session, title=f"Proyecto a {days} días")
    item = f.offer(
        session, deadline=today + timedelta(days=days), title=f"Call in {days}",
        status=status_of_offer,
    )  # fmt: skip
    return f.match(session, project, item, status=status, owner_id=owner.id)


def test_reminders_go_to_the_owner_once_per_threshold_in_their_language(
    session, smtp, smtp_settings, owners
):
    ana, luis = owners
    now = clock.now()
    in_14 = _followed(session, ana, 14)
    in_10 = _followed(session, luis, 10, status="accepted")  # fits the 14-day threshold
    in_2 = _followed(session, ana, 2)  # first followed late: only the 3-day reminder
    far = _followed(session, ana, 20)  # too far away yet
    _followed(session, ana, 5, status="proposed")  # nobody decided to follow it
    _followed(session, ana, 4, status="shortlisted", status_of_offer="withdrawn")
    negotiated = _followed(session, ana, 3, status="accepted")
    session.add(
        Alliance(
            match_id=negotiated.id, stage="formalised", started_on=clock.agency_today("UTC"),
            currency="USD",
        )
    )  # fmt: skip
    f.match(session, f.project(session), f.offer(session, deadline=in_2.offer.deadline))  # no owner
    session.commit()

    result = reminders.send_due(session, smtp_settings, now=now)
    assert (result.reserved, result.sent, result.failed) == (3, 3, [])
    rows = session.execute(
        sa.select(DeadlineReminder.match_id, DeadlineReminder.period, DeadlineReminder.status)
    ).all()
    assert sorted(rows) == sorted(
        [(in_14.id, "14d", "sent"), (in_10.id, "14d", "sent"), (in_2.id, "3d", "sent")]
    )
    [english_14, english_2] = sorted(smtp.to(ana.email), key=lambda m: m["Subject"])
    assert english_14["Subject"] == "CoopMatch: the call “Call in 14” closes in 14 days"
    assert english_2["Subject"] == "CoopMatch: the call “Call in 2” closes in 2 days"
    body = english_14.get_content()
    assert "You follow its match with the project “Proyecto a 14 días” (shortlisted)" in body
    assert f"https://coopmatch.example/staff/matches/{in_14.id}" in body
    assert english_14["Auto-Submitted"] == "auto-generated"
    assert english_14["Message-ID"] == f"<reminder-{in_14.id}-14d@coopmatch.example>"
    [spanish] = smtp.to(luis.email)
    assert spanish["Subject"] == "CoopMatch: la convocatoria «Call in 10» cierra en 10 días"
    assert "aceptada, alianza en negociación" in spanish.get_content()

    # Again the same day, and the next days: nothing more until the 3-day threshold.
    assert reminders.send_due(session, smtp_settings, now=now).sent == 0
    assert reminders.send_due(session, smtp_settings, now=now + timedelta(days=1)).sent == 0
    week = reminders.send_due(session, smtp_settings, now=now + timedelta(days=7))
    assert week.sent == 2  # in_10 is 3 days away now, and the far one 13
    assert smtp.to(ana.email)[-1]["Subject"] == "CoopMatch: the call “Call in 20” closes in 13 days"
    assert smtp.to(luis.email)[-1]["Subject"] == (
        "CoopMatch: la convocatoria «Call in 10» cierra en 3 días"
    )
    assert reminders.send_due(session, smtp_settings, now=now + timedelta(days=11)).sent == 1
    assert smtp.to(ana.email)[-1]["Subject"] == "CoopMatch: the call “Call in 14” closes in 3 days"
    assert reminders.send_due(session, smtp_settings, now=now + timedelta(days=12)).sent == 0
    assert len(smtp.messages) == 6
    assert (
        session.scalar(sa.select(sa.func.count()).where(DeadlineReminder.match_id == far.id)) == 1
    )


def test_thresholds_are_configurable(session, smtp, smtp_settings, owners):
    ana, _luis = owners
    _followed(session, ana, 14)
    week = _followed(session, ana, 7)
    settings = replace(smtp_settings, reminder_days=(7,))
    result = reminders.send_due(session, settings)
    assert result.sent == 1
    assert [m["Subject"] for m in smtp.to(ana.email)] == [
        "CoopMatch: the call “Call in 7” closes in 7 days"
    ]
    assert session.scalar(sa.select(DeadlineReminder.match_id)) == week.id


def test_a_reserved_reminder_no_longer_due_is_dropped_not_sent(
    session, smtp, smtp_settings, owners
):
    ana, _luis = owners
    match = _followed(session, ana, 3)
    now = clock.now()
    with session.begin_nested():
        reminders._reserve(session, smtp_settings, now, clock.agency_today("America/Bogota"))
    session.commit()
    # Before it goes out the match is accepted and its alliance formalised.
    reviews.decide(
        session, match.id, ana.id, "accept", usd_rates=smtp_settings.usd_rates,
        today=clock.agency_today("America/Bogota"),
    )  # fmt: skip
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    assert alliance.owner_id == ana.id  # the match's owner follows its alliance
    alliance.stage = "formalised"
    session.commit()
    assert reminders.send_one(session, smtp_settings, match.id, "3d", now=now) is None
    assert smtp.messages == []
    assert session.scalar(sa.select(sa.func.count()).select_from(DeadlineReminder)) == 0


def test_a_worker_sends_reminders_and_mentions_and_retries_a_refused_owner(
    committed, pg_url, smtp, tmp_path, request
):
    with committed() as session:
        ana = user_admin.create_user(
            session, "ana@agency.gov.co", "staff", "a-long-password", name="Ana", language="en"
        )
        luis = user_admin.create_user(
            session, "luis@agency.gov.co", "staff", "a-long-password", name="Luis"
        )
        match = _followed(session, ana, 3)
        match_id, ana_id, luis_id = match.id, ana.id, luis.id
        project_id = match.project_id
    smtp.refuse["ana@agency.gov.co"] = 2  # refused by the run and by the first retry
    env = worker_environment(pg_url, smtp.port, tmp_path)
    log = OUTPUT_DIR / "workers" / f"{request.node.name}.log"
    log.unlink(missing_ok=True)
    worker = WorkerProcess(env, log, concurrency=2, name="reminders").start()
    try:
        import config as app_config
        from services import task_names
        from services.runtime import Runtime
        from workers.celery_app import broker_client

        settings = app_config.from_env(env)
        broker_client(settings).send_task(task_names.REMINDERS_SEND_DUE)

        def sent_on_second_retry():
            with committed() as session:
                return session.scalar(
                    sa.select(DeadlineReminder).where(
                        DeadlineReminder.match_id == match_id,
                        DeadlineReminder.status == DigestSendStatus.SENT,
                        DeadlineReminder.attempts == 3,
                    )
                )

        wait_for(sent_on_second_retry, timeout=60, what="the reminder sent on its 2nd retry")
        assert smtp.refused == ["ana@agency.gov.co"] * 2
        [reminder] = smtp.to("ana@agency.gov.co")
        assert reminder["Subject"] == "CoopMatch: the call “Call in 3” closes in 3 days"

        # A note written where the broker is configured: the outbox hands its mention emails
        # to the worker after the commit.
        import workers.main

        runtime = Runtime.create(settings)
        runtime.use_sender(workers.main.sender_for(runtime))
        with runtime.session() as session:
            note = notes.add(session, "project", project_id, ana_id, "@luis: mira el cierre")
            note_id = note.id
        runtime.engine.dispose()

        def mention_sent():
            with committed() as session:
                return session.scalar(
                    sa.select(NoteMention).where(
                        NoteMention.note_id == note_id,
                        NoteMention.user_id == luis_id,
                        NoteMention.status == DigestSendStatus.SENT,
                    )
                )

        wait_for(mention_sent, timeout=60, what="the mention email sent by the worker")
        [mention] = smtp.to("luis@agency.gov.co")
        assert mention["Subject"].startswith("CoopMatch: Ana le mencionó en «")
        assert "@luis: mira el cierre" in mention.get_content()
    finally:
        worker.stop()
