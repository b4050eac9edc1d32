"""Presentation helpers for the staff templates: labels, amounts, dates and explanations."""

from __future__ import annotations

import re
from datetime import date, datetime

from babel.numbers import get_decimal_symbol
from flask import g
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from markupsafe import Markup, escape

from models import User
from services import reviews
from web import vocabulary
from web.db import db_session
from web.vocabulary import translate as _


def money(amount, currency: str | None) -> str:
    """An amount with its currency code, digits grouped per language: 'COP 1.200.000'."""
    if amount is None:
        return "—"
    return f"{currency or ''} {format_decimal(float(amount), format='#,##0')}".strip()


def usd(amount) -> str:
    return money(amount, "USD")


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, fmt)


def number(value, fmt: str = "#,##0.##") -> str:
    return format_decimal(value, format=fmt) if value is not None else "—"


def score(value) -> str:
    """A score with two decimals in the page's language ('0,73' in Spanish), cheaply."""
    if value is None:
        return "—"
    if "_staff_decimal" not in g:
        g._staff_decimal = get_decimal_symbol(get_locale())
    return f"{float(value):.2f}".replace(".", g._staff_decimal)


def days_left(deadline: date | None, today: date) -> str:
    if deadline is None:
        return _("No deadline")
    left = (deadline - today).days
    if left < 0:
        return _("Closed %(days)s days ago", days=-left)
    if left == 0:
        return _("Closes today")
    return _("%(days)s days left", days=left)


def phrases(explanation: dict | None) -> list[str]:
    """The explanation's readable reasons in the page's language (English as a fallback)."""
    if not explanation:
        return []
    lang = str(get_locale() or "es")
    found = explanation.get(lang) or explanation.get("en") or []
    if not found and explanation.get("terms"):
        found = [_("Shared terms: %(terms)s", terms=", ".join(explanation["terms"]))]
    return [str(p) for p in found]


def components(values: dict | None) -> list[tuple[str, float]]:
    return [
        (vocabulary.label("component", k), float(v))
        for k, v in (values or {}).items()
        if isinstance(v, int | float)
    ]


def decision_reason(text: str | None) -> str:
    code, note = reviews.split_reason(text)
    if code is None:
        return note
    name = vocabulary.label("reject_reason", code)
    return f"{name}: {note}" if note else name


def reject_options() -> list[tuple[str, str]]:
    """The match rejection reasons as (code, translated name), built once per request."""
    if "_staff_reject_options" not in g:
        g._staff_reject_options = [
            (code, _(text)) for code, text in vocabulary.REJECT_REASONS.items()
        ]
    return g._staff_reject_options


# Web addresses in a note become links; what a link ends with is read as punctuation.
URL = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]}'\""


def note_html(body: str) -> Markup:
    """A note's plain text, escaped, with its http(s) addresses as links (newlines kept by
    the `note-body` class)."""
    parts, last = [], 0
    for found in URL.finditer(body):
        address = found.group(0).rstrip(TRAILING)
        end = found.start() + len(address)
        parts.append(escape(body[last : found.start()]))
        parts.append(
            Markup('<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>').format(address)
        )
        last = end
    parts.append(escape(body[last:]))
    return Markup("").join(parts)


def person_name(user_id) -> str:
    """A staff member's name (or email) by id, for audit values such as owners."""
    person = db_session().get(User, user_id) if isinstance(user_id, int) else None
    return (person.name or person.email) if person is not None else f"#{user_id}"


HELPERS = {
    "note_html": note_html,
    "person_name": person_name,
    "reject_options": reject_options,
    "_": _,
    "score": score,
    "label": vocabulary.label,
    "money": money,
    "usd": usd,
    "day": day,
    "number": number,
    "days_left": days_left,
    "phrases": phrases,
    "components": components,
    "decision_reason": decision_reason,
    "reject_reasons": vocabulary.REJECT_REASONS,
    "offer_reject_reasons": vocabulary.OFFER_REJECT_REASONS,
    "stages": vocabulary.STAGES,
    "zip": zip,
}
