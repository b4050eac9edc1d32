"""Languages: Spanish and English, chosen by the user's setting, then the session, then the browser.

Translations live as .po files under web/translations/<area>/; they are compiled into the
instance folder when the app starts, so no generated .mo file is kept in git.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_login import current_user

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
SOURCE_DIR = Path(__file__).resolve().parent / "translations"


def compile_translations(target: Path) -> list[str]:
    """Compile every area's .po files into `target`; return the directories Babel should read."""
    directories = []
    for area in sorted(p for p in SOURCE_DIR.iterdir() if p.is_dir()):
        for po_path in area.glob("*/LC_MESSAGES/*.po"):
            mo_path = target / area.name / po_path.relative_to(area).with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as source:
                catalog = read_po(source)
            with mo_path.open("wb") as out:
                write_mo(out, catalog)
        directories.append(str(target / area.name))
    return directories


def select_locale() -> str:
    """Return the language for this request."""
    if getattr(current_user, "is_authenticated", False) and current_user.language:
        return str(current_user.language)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
