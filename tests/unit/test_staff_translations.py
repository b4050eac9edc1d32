"""Every text of the staff workspace has its Spanish translation (web/translations/staff)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}
METHODS = [("web/staff/**.py", "python"), ("web/templates/staff/**.html", "jinja2")]


def _catalog(area: str):
    with (ROOT / "web" / "translations" / area / "es" / "LC_MESSAGES" / "messages.po").open(
        "rb"
    ) as source:
        return read_po(source)


def test_every_staff_text_is_translated_to_spanish():
    catalogs = [_catalog("staff"), _catalog("core")]
    missing = []
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        if not any(
            msgid in c
            and c[msgid].string
            and all(c[msgid].string if isinstance(c[msgid].string, tuple) else [c[msgid].string])
            for c in catalogs
        ):
            missing.append(f"{filename}: {msgid}")
    assert missing == []


def test_plural_messages_have_every_spanish_form():
    catalog = _catalog("staff")
    for message in catalog:
        if message.pluralizable:
            assert len(message.string) == catalog.num_plurals and all(message.string), message.id


PUBLIC_PAGES = [
    ("web/opportunities/**.py", "python"),
    ("web/searches/**.py", "python"),
    ("web/templates/opportunities/**.html", "jinja2"),
    ("web/templates/opportunities/**.xml", "jinja2"),
    ("web/templates/searches/**.html", "jinja2"),
]


def test_every_text_of_the_opportunities_and_saved_searches_is_translated():
    """Those pages draw words from every area (Babel merges the catalogs at run time)."""
    areas = [p.parent.name for p in (ROOT / "web" / "translations").glob("*/es")]
    catalogs = [_catalog(area) for area in areas]
    missing = []
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=PUBLIC_PAGES, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and not any(msgid in c and c[msgid].string for c in catalogs):
            missing.append(f"{filename}: {msgid}")
    assert missing == []
