"""Errors beside the fields: a schema's or a service's messages on an HTML form, translated.

Forms carry no validators of their own where a schema (web/schemas.py) or a service judges the
values, so every form shows the same messages the API gives, in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.errors import DomainError, Invalid

LIST_FIELDS = ("modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries")
_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(r"Length must be between (\d+) and (\d+)\."),
        lambda m: _("Use between %(min)s and %(max)s characters.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"Shorter than minimum length (\d+)\."),
        lambda m: _("Use at least %(min)s characters.", min=m[1]),
    ),
    (
        re.compile(r"Longer than maximum length (\d+)\."),
        lambda m: _("Use at most %(max)s characters.", max=m[1]),
    ),
    (re.compile(r"Must be at most ([\d,]+)\."), lambda m: _("Must be at most %(max)s.", max=m[1])),
    (re.compile(r"Must be one of: .*"), lambda m: _("Choose one of the options.")),
]
_PLAIN = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field is required."),
    "Not a valid email address.": _l("Give a valid email address."),
    "Not a valid date.": _l("Give a valid date (YYYY-MM-DD)."),
    "Not a valid number.": _l("Give a number, e.g. 250000 (digits only)."),
    "Not a valid integer.": _l("Choose one of the options."),
    "Not a valid URL.": _l("Give a web address starting with https:// or http://."),
    "Unknown field.": _l("This field is not accepted."),
}


def flatten(messages) -> list[str]:
    """Marshmallow's messages (lists, or dicts per list index) as one flat list."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in flatten(value)]
    return [m for value in messages for m in flatten(value)]


def translate(field: str, message: str) -> str:
    """A schema's or a service's message about `field`, in the page's language."""
    message = str(message)
    if field in LIST_FIELDS and message.startswith("Shorter than minimum length"):
        return _("Choose at least one.")
    if message in _PLAIN:
        return str(_PLAIN[message])
    for pattern, render in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return render(found)
    # The services' and schemas' own sentences ("Give the currency of the amounts.") are msgids.
    return _(message)


def show(
    form,
    errors: Mapping,
    *,
    rename: Mapping[str, str] | None = None,
    fallback: str | None = None,
) -> bool:
    """Put each field's messages beside the form's field of that name (after `rename`), or
    beside the `fallback` field when the form has none; return whether any landed."""
    landed = False
    for name, messages in errors.items():
        field = getattr(form, (rename or {}).get(name, name), None)
        if (field is None or not hasattr(field, "errors")) and fallback:
            field = getattr(form, fallback)
        if field is None or not hasattr(field, "errors"):
            continue
        field.errors = list(field.errors or []) + [translate(name, m) for m in flatten(messages)]
        landed = True
    return landed


def show_error(form, exc: DomainError, *, fallback: str | None = None) -> bool:
    """Put a service error's field messages beside the fields (its message beside `fallback`
    when it names no field); return whether any landed."""
    return show(
        form, exc.fields or ({fallback: [exc.message]} if fallback else {}), fallback=fallback
    )


def flash_error(exc: DomainError, fallback: str) -> None:
    """Flash what went wrong: the field messages when there are any, else `fallback`."""
    messages = []
    if isinstance(exc, Invalid):
        messages = [translate(name, m) for name, ms in exc.fields.items() for m in flatten(ms)]
    messages = [m for m in messages if "\n" not in m and len(m) < 300]
    flash(" ".join(messages) if messages else fallback, "error")
