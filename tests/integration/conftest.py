"""Fixtures for tests that need real things: a live HTTP server and headless Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

import config as app_config
from models import Base, migrate
from models.db import make_engine, make_session_factory
from tests.conftest import OUTPUT_DIR, TEST_REDIS_URL, missing_service
from tests.integration.mailserver import Recorder, free_port

CHROMIUM = os.environ.get("COOPMATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = OUTPUT_DIR / "screenshots"


class LiveServer:
    """The real app served over HTTP on a free localhost port, in a thread."""

    def __init__(self, app, session_factory):
        self.app = app
        self.session_factory = session_factory
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(tmp_path):
    """A migrated SQLite database and the app serving it; the test fills it through services."""
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = app_config.Settings(
        instance_path=tmp_path / "instance", database_url=url, base_url="http://127.0.0.1"
    )
    app = create_app(settings=settings, session_factory=factory)
    server = LiveServer(app, factory).start()
    yield server
    server.stop()
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never Playwright's own download)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="es-CO", viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-output/screenshots and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free localhost port; its handler records messages."""
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp):
    return replace(
        settings,
        mail_server="127.0.0.1",
        mail_port=smtp.port,
        mail_starttls=False,
        mail_sender="CoopMatch <digest@coopmatch.example>",
        base_url="https://coopmatch.example",
    )


@pytest.fixture
def committed(pg_url):
    """The run's PostgreSQL database emptied; the worker process sees committed rows only."""
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis is not reachable at {TEST_REDIS_URL}: {exc}")
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield make_session_factory(engine)
    engine.dispose()


def worker_environment(pg_url: str, smtp_port: int, instance: Path) -> dict[str, str]:
    """The environment of a worker process that mails through the test's SMTP server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
    env.update(
        DATABASE_URL=pg_url,
        REDIS_URL=TEST_REDIS_URL,
        COOPMATCH_INSTANCE_PATH=str(instance),
        COOPMATCH_MAIL_SERVER="127.0.0.1",
        COOPMATCH_MAIL_PORT=str(smtp_port),
        COOPMATCH_MAIL_STARTTLS="0",
        COOPMATCH_DIGEST_RETRY_DELAY="1",
        COOPMATCH_TASK_MAX_RETRIES="4",
    )
    return env
