"""Helpers shared by the staff views: today's date, safe return addresses, error messages."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import request, url_for

from services import clock
from web.db import runtime


def today() -> date:
    """Today in the agency's time zone."""
    return clock.agency_today(runtime().settings.timezone)


def settings():
    return runtime().settings


def safe_next(target: str | None, default_endpoint: str = "staff.queue", **values) -> str:
    """Return `target` if it is a path on this site, else the default page."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for(default_endpoint, **values)


def here() -> str:
    """The current page's path and query, to come back to after a POST."""
    return request.full_path.rstrip("?")
