"""The Spanish catalogues: every text of the web translated, each msgid in one catalogue only,
and every name in the vocabulary (web/vocabulary.py) translated."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web import vocabulary

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}
METHODS = [
    ("web/**.py", "python"),
    ("web/templates/**.html", "jinja2"),
    ("web/templates/**.xml", "jinja2"),
]


def _catalogs() -> dict:
    catalogs = {}
    for path in sorted(TRANSLATIONS.glob("*/es/LC_MESSAGES/messages.po")):
        with path.open("rb") as source:
            catalogs[path.parts[-4]] = read_po(source)  # parses, or the test fails here
    return catalogs


def _translated(catalogs: dict, msgid: str) -> bool:
    for catalog in catalogs.values():
        found = catalog.get(msgid)
        if found is not None:
            strings = found.string if isinstance(found.string, tuple) else (found.string,)
            return bool(strings) and all(strings)
    return False


def test_there_are_catalogues_for_each_area():
    assert {"core", "digest", "public", "staff"} <= set(_catalogs())


def test_no_msgid_is_defined_in_two_catalogues():
    counts = Counter(
        message.id if isinstance(message.id, str) else message.id[0]
        for catalog in _catalogs().values()
        for message in catalog
        if message.id
    )
    assert [msgid for msgid, n in counts.items() if n > 1] == []


def test_every_vocabulary_name_has_its_spanish():
    catalogs = _catalogs()
    names = {name for table in vocabulary.ALL.values() for name in table.values()}
    assert len(names) > 100  # the tables are there, not emptied by a refactor
    assert sorted(n for n in names if not _translated(catalogs, n)) == []


def test_every_text_of_the_web_is_translated_to_spanish():
    catalogs = _catalogs()
    missing = []
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and not _translated(catalogs, msgid):
            missing.append(f"{filename}: {msgid}")
    assert missing == []


def test_plural_messages_have_every_spanish_form():
    for catalog in _catalogs().values():
        for message in catalog:
            if message.pluralizable:
                assert len(message.string) == catalog.num_plurals and all(message.string)
