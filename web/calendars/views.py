"""A staff member's calendar (RFC 5545), at the secret address shown on their "my work" page."""

from __future__ import annotations

from flask import Response, abort

from services.errors import NotFound
from services.work import calendars
from web.calendars.blueprint import bp
from web.db import db_session, runtime


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    settings = runtime().settings
    try:
        user = calendars.reader(db_session(), settings.secret_key, token)
    except NotFound:
        abort(404)
    body = calendars.feed(db_session(), settings, user)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="coopmatch.ics"'
    # The address is a credential: keep it out of shared caches and of referrers.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
