"""Helpers shared by the staff views: today's date, safe return addresses, error messages."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import flash, request, url_for
from flask_babel import gettext as _

from services import clock
from services.errors import DomainError, Invalid
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


def field_messages(exc: DomainError) -> list[str]:
    """Translate the field messages of a domain error (the service's English is the msgid)."""
    out = []
    for messages in (exc.fields or {}).values():
        for message in messages if isinstance(messages, list) else [messages]:
            out.append(_(str(message)))
    return out


def flash_error(exc: DomainError, fallback: str) -> None:
    """Flash what went wrong: the field messages when there are any, else `fallback`."""
    messages = field_messages(exc) if isinstance(exc, Invalid) else []
    messages = [m for m in messages if "\n" not in m and len(m) < 300]
    flash(" ".join(messages) if messages else fallback, "error")


def apply_errors(form, exc: DomainError) -> bool:
    """Put an Invalid error's messages beside the form's fields; return whether any landed."""
    landed = False
    for name, messages in (exc.fields or {}).items():
        field = getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            continue
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.extend(
            _(str(m)) for m in (messages if isinstance(messages, list) else [messages])
        )
        landed = True
    return landed
