"""The request's database session and the app's runtime (the Flask tutorial's `db.py`).

create_app puts a services.runtime.Runtime in `app.extensions`; views ask for the request's
session with `db_session()`, opened on first use and closed when the request ends.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from config import Settings
from services.runtime import Runtime

EXTENSION = "coopmatch"


def init_app(app: Flask, runtime: Runtime) -> None:
    """Hold `runtime` for `app`, and close each request's session when the request ends."""
    app.extensions[EXTENSION] = runtime
    app.teardown_appcontext(_close_session)


def runtime() -> Runtime:
    """The current app's runtime."""
    return current_app.extensions[EXTENSION]


def settings() -> Settings:
    """The current app's settings."""
    return runtime().settings


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = runtime().session()
    return g.db


def _close_session(_exc) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
