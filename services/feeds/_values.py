"""Small converters for the values sources send: dates in many spellings, amounts, HTML text."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MMDDYYYY = re.compile(r"(\d{2})(\d{2})(\d{4})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_NAMED_DATE = re.compile(
    r"(?:(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4}))|(?:([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4}))"
)
_EPOCH_MS = re.compile(r"\d{12,14}")
_COUNTRY = re.compile(r"[A-Z]{2}")

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "dt",
    ]
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def iso_date(value: object) -> date | None:
    """Return the date of an ISO 8601 string ("2012-04-15", "2023-05-11T02:00:00.000+0200").

    The calendar date written is kept as written (the source's local date), not shifted to UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        m = _ISO_DATE.match(value.strip())
        return _safe_date(int(m[1]), int(m[2]), int(m[3])) if m else None


def any_date(value: object, zone: str = "UTC") -> date | None:
    """Return a date from any spelling the sources use, None when there is none.

    ISO, "MM/DD/YYYY", "MMDDYYYY" (Grants.gov extract), "09 March 2023", "Oct 09, 2020 12:00:00
    AM EDT" and epoch milliseconds (EU topic details; read in `zone`).
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch_ms(int(value), zone)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EPOCH_MS.fullmatch(text):
        return _from_epoch_ms(int(text), zone)
    if m := _ISO_DATE.match(text):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _US_DATE.match(text):
        return _safe_date(int(m[3]), int(m[1]), int(m[2]))
    if m := _MMDDYYYY.fullmatch(text):
        return _safe_date(int(m[3]), int(m[1]), int(m[2]))
    if m := _NAMED_DATE.match(text):
        if m[1]:
            day, month, year = int(m[1]), _MONTHS.get(m[2].lower()), int(m[3])
        else:
            month, day, year = _MONTHS.get(m[4].lower()), int(m[5]), int(m[6])
        return _safe_date(year, month, day) if month else None
    return None


def _from_epoch_ms(ms: int, zone: str) -> date | None:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(ZoneInfo(zone)).date()
    except (OverflowError, OSError, ValueError):
        return None


def decimal(value: object) -> Decimal | None:
    """Return an amount as a Decimal ("105,000,000", 4700000, " 1000.5 "), None if not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    try:
        result = Decimal(value)  # the common case: a plain number, maybe padded with spaces
    except InvalidOperation:
        text = value.replace(",", "").replace(" ", "").replace("\u00a0", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
    return result if result.is_finite() else None


def positive(value: Decimal | None) -> Decimal | None:
    """Return the amount when above zero; sources write 0 for "not given"."""
    return value if value is not None and value > 0 else None


def country(code: object) -> str | None:
    """Return an ISO 3166-1 alpha-2 code upper-cased, None for anything else (region codes)."""
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    return code if _COUNTRY.fullmatch(code) else None


def lang(code: object) -> str | None:
    """Return a language code lower-cased ("EN" -> "en"), None when empty."""
    if not isinstance(code, str):
        return None
    code = code.strip().lower()
    return code or None


def clean(text: object) -> str:
    """Return text with HTML entities decoded and runs of white space collapsed."""
    if not isinstance(text, str):
        return ""
    return _SPACES.sub(" ", html.unescape(text)).strip()


def html_text(markup: object) -> str:
    """Return the readable text of an HTML fragment: paragraphs kept as lines, tags dropped."""
    if not isinstance(markup, str) or not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean(markup)
    for el in root.iter():
        if not isinstance(el.tag, str):
            el.text = ""  # comments and processing instructions carry no text
            continue
        if el.tag in ("script", "style"):
            el.text = ""
        elif el.tag in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    lines = (_SPACES.sub(" ", line).strip() for line in root.text_content().split("\n"))
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n", text).strip()
