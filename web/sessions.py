"""Signed-in sessions: what a session carries, how long it lives, and how it ends.

The session cookie is signed with the app's secret and carries the user's session version
(`sv`): sign-out, a password change and an administrator's deactivation bump the version, so
every copy of an older cookie stops working at once. A session also ends after
COOPMATCH_SESSION_IDLE_MINUTES without a request, and COOPMATCH_SESSION_MAX_HOURS after it
started, whatever the activity.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, request, session
from flask_login import current_user, login_user, logout_user

from config import Settings
from models import User
from services import sign_in
from web.db import db_session, settings

VERSION_KEY = "sv"
STARTED_KEY = "started"
SEEN_KEY = "seen"
SEEN_RESOLUTION = 60  # seconds: rewrite the cookie for activity at most once a minute


def init_app(app: Flask, config: Settings) -> None:
    """Give sessions their absolute lifetime and check both lifetimes on every request."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config.session_max_hours)
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(hours=config.session_max_hours)
    app.before_request(_enforce_lifetimes)


def start(user: User) -> None:
    """Sign `user` in with a new session (nothing of the anonymous one is kept)."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session[VERSION_KEY] = user.session_version
    session[STARTED_KEY] = now
    session[SEEN_KEY] = now


def end() -> None:
    """Sign out here and end every other session of the same person."""
    if current_user.is_authenticated:
        sign_in.end_sessions(db_session(), current_user)
    logout_user()
    session.clear()


def carry_version(version: int) -> None:
    """After a password change: this session stays, at the user's new session version."""
    session[VERSION_KEY] = version


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user, if this session's version is still theirs."""
    try:
        return sign_in.load_user(db_session(), int(user_id), session.get(VERSION_KEY))
    except (TypeError, ValueError):
        return None


def _enforce_lifetimes():
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    now = int(time.time())
    config = settings()
    started = session.get(STARTED_KEY, 0)
    seen = session.get(SEEN_KEY, 0)
    if (
        now - seen > config.session_idle_minutes * 60
        or now - started > config.session_max_hours * 3600
    ):
        logout_user()
        session.clear()
        return None
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_KEY] = now
    return None
