"""Saved-search emails over a real SMTP server (aiosmtpd), from the public page's double
opt-in to one-click unsubscribe, and through a real `celery worker` with retries."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from models import SavedSearchSend
from models.digests import DigestSendStatus
from models.searches import SearchStatus
from services import clock
from services.searches import delivery, store
from tests import factories as f
from tests.conftest import OUTPUT_DIR
from tests.integration.conftest import worker_environment
from tests.integration.workers import WorkerProcess, wait_for
from tests.web.helpers import csrf_token

pytestmark = pytest.mark.integration

LINK = re.compile(r"https://coopmatch\.example(/searches/confirm/\S+)")


@pytest.fixture
def mail_client(smtp_settings, session_factory):
    from web.app import create_app

    app = create_app({"TESTING": True}, settings=smtp_settings, session_factory=session_factory)
    return app.test_client()


def test_double_opt_in_then_one_email_per_period_then_one_click_unsubscribe(
    mail_client, session, smtp, smtp_settings
):
    page = mail_client.get("/opportunities?q=agua", headers={"Accept-Language": "en"})
    answer = mail_client.post(
        "/opportunities/alerts",
        headers={"Accept-Language": "en"},
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "q": "agua",
            "name": "Agua",
            "email": "reader@example.org",
            "frequency": "immediate",
        },
    )
    assert answer.status_code == 200
    [confirmation] = smtp.to("reader@example.org")
    assert confirmation["Subject"] == "Confirm your subscription to “Agua” on CoopMatch"
    path = LINK.search(confirmation.get_content()).group(1)

    # Nothing is sent before the confirmation, even when something new appears.
    f.offer(session, title="Agua para el barrio temprano")
    assert delivery.send_due(session, smtp_settings).reserved == 0
    form = mail_client.get(path)
    done = mail_client.post(path, data={"csrf_token": csrf_token(form.get_data(as_text=True))})
    assert done.status_code == 200

    fresh = f.offer(session, title="Agua potable para laderas")
    f.offer(session, title="Vivienda social")  # does not fit the search
    now = clock.now() + timedelta(seconds=1)
    result = delivery.send_due(session, smtp_settings, now=now)
    assert (result.sent, result.failed) == (1, [])
    messages = smtp.to("reader@example.org")
    assert len(messages) == 2
    news = messages[1]
    assert news["Subject"] == "CoopMatch: 1 new opportunity for “Agua”"
    assert [p.get_content_type() for p in news.iter_parts()] == ["text/plain", "text/html"]
    html = news.get_body(("html",)).get_content()
    assert f"https://coopmatch.example/opportunities/{fresh.id}" in html
    assert "Vivienda social" not in html and "temprano" not in html
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The same period again sends nothing.
    assert delivery.send_due(session, smtp_settings, now=now).sent == 0
    assert len(smtp.to("reader@example.org")) == 2

    unsubscribe = urlsplit(news["List-Unsubscribe"].strip("<>")).path
    response = mail_client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    f.offer(session, title="Agua después de cancelar")
    later = delivery.send_due(session, smtp_settings, now=now + timedelta(minutes=10))
    assert later.reserved == 0 and len(smtp.to("reader@example.org")) == 2


def test_a_worker_sends_saved_search_emails_and_retries_a_refused_recipient(
    committed, pg_url, smtp, tmp_path, request
):
    with committed() as session:
        search = store.subscribe_by_email(
            session,
            email="bob@example.org",
            name="Agua",
            params={"q": "agua"},
            frequency="immediate",
            language="es",
            now=clock.now() - timedelta(hours=2),
        )
        store.confirm(session, search, now=clock.now() - timedelta(hours=2))
        f.offer(session, title="Agua potable para laderas")
        search_id = search.id
    smtp.refuse["bob@example.org"] = 2  # refused by the run and by the first retry
    env = worker_environment(pg_url, smtp.port, tmp_path)
    log = OUTPUT_DIR / "workers" / f"{request.node.name}.log"
    log.unlink(missing_ok=True)
    worker = WorkerProcess(env, log, concurrency=2, name="searches").start()
    try:
        import config as app_config
        from services import task_names
        from workers.celery_app import broker_client

        broker_client(app_config.from_env(env)).send_task(task_names.SEARCH_SEND_DUE)

        def sent_on_second_retry():
            with committed() as session:
                return session.scalar(
                    sa.select(SavedSearchSend).where(
                        SavedSearchSend.saved_search_id == search_id,
                        SavedSearchSend.status == DigestSendStatus.SENT,
                        SavedSearchSend.attempts == 3,
                    )
                )

        wait_for(sent_on_second_retry, timeout=60, what="the refused email sent on its 2nd retry")
        assert smtp.refused == ["bob@example.org"] * 2
        [message] = smtp.to("bob@example.org")
        assert message["Subject"] == "CoopMatch: 1 oportunidad nueva para «Agua»"
        with committed() as session:
            assert session.get(type(search), search_id).status == SearchStatus.SUBSCRIBED
    finally:
        worker.stop()
