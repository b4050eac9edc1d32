"""Shared fixtures: a database per test run (SQLite and PostgreSQL), a transaction per test."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

import config as app_config
from models import migrate
from models.db import make_engine

IN_CI = bool(os.environ.get("CI"))
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
OUTPUT_DIR = Path(os.environ.get("TEST_OUTPUT_DIR", Path(__file__).parent.parent / "test-output"))


def missing_service(message: str):
    """Fail when CI is set (a missing service is an error there), skip otherwise."""
    if IN_CI:
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _admin_engine() -> sa.Engine:
    return make_engine(
        app_config._normalise_db_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def pg_admin():
    """An engine on the PostgreSQL server of TEST_DATABASE_URL, or a skip/failure without it."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        missing_service(
            f"PostgreSQL is not reachable at {TEST_DATABASE_URL}: {str(exc.orig).splitlines()[0]}"
        )
    yield admin
    admin.dispose()


@contextmanager
def scratch_database(admin: sa.Engine, label: str):
    """Create a fresh, migrated database; drop it afterwards. Yields its URL."""
    name = f"coopmatch_{label}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_url(pg_admin):
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    with scratch_database(pg_admin, "test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    """A fresh, migrated SQLite database file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "pg"])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    """Sessions inside one outer transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory):
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path, database_url):
    return app_config.Settings(instance_path=tmp_path / "instance", database_url=database_url)


@pytest.fixture
def app(settings, session_factory):
    from web.app import create_app

    return create_app({"TESTING": True}, settings=settings, session_factory=session_factory)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def shared_feeds() -> Path:
    """../shared/feeds beside the repository (real source files), or a skip (a failure with CI
    set) without it."""
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "feeds"
    if not (folder / "README.md").is_file():
        missing_service(f"the shared feed files are not at {folder}")
    return folder
