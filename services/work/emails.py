"""The emails of staff work, in the reader's language: a note mentions you, and a deadline is
near. Plain text; the words live here so a worker writes them without a Flask app."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from config import Settings
from models import Match, Note, User
from services import mail
from services.digest import templates
from services.work import links

WORDS = {
    "es": {
        "mention_subject": "CoopMatch: {author} le mencionó en «{title}»",
        "mention_text": (
            "{author} le mencionó en una nota sobre «{title}»:\n\n{body}\n\n"
            "Ver la nota y responder:\n{url}\n"
        ),
        "reminder_subject_one": "CoopMatch: la convocatoria «{offer}» cierra mañana",
        "reminder_subject_many": "CoopMatch: la convocatoria «{offer}» cierra en {days} días",
        "reminder_subject_today": "CoopMatch: la convocatoria «{offer}» cierra hoy",
        "reminder_text": (
            "La oferta «{offer}» ({ally}) cierra el {deadline}.\n"
            "Usted sigue su coincidencia con el proyecto «{project}» ({status}).\n\n"
            "Abrir la coincidencia:\n{url}\n\n"
            "Todo su trabajo: {mine}\n\n"
            "Recibe este recordatorio porque es responsable de esta coincidencia en CoopMatch."
        ),
        "shortlisted": "preseleccionada",
        "accepted": "aceptada, alianza en negociación",
        "someone": "Alguien",
    },
    "en": {
        "mention_subject": "CoopMatch: {author} mentioned you on “{title}”",
        "mention_text": (
            "{author} mentioned you in a note about “{title}”:\n\n{body}\n\n"
            "See the note and answer:\n{url}\n"
        ),
        "reminder_subject_one": "CoopMatch: the call “{offer}” closes tomorrow",
        "reminder_subject_many": "CoopMatch: the call “{offer}” closes in {days} days",
        "reminder_subject_today": "CoopMatch: the call “{offer}” closes today",
        "reminder_text": (
            "The offer “{offer}” ({ally}) closes on {deadline}.\n"
            "You follow its match with the project “{project}” ({status}).\n\n"
            "Open the match:\n{url}\n\n"
            "All your work: {mine}\n\n"
            "You receive this reminder because you own this match in CoopMatch."
        ),
        "shortlisted": "shortlisted",
        "accepted": "accepted, alliance in negotiation",
        "someone": "Someone",
    },
}
HEADERS = {"Auto-Submitted": "auto-generated"}  # RFC 3834: no out-of-office answers


def language_of(user: User) -> str:
    lang = str(user.language)
    return lang if lang in templates.LANGUAGES else "es"


def mention(settings: Settings, reader: User, note: Note, title: str):
    """The email telling `reader` that `note` (about `title`) mentions them."""
    w = WORDS[language_of(reader)]
    author = (note.author.name or note.author.email) if note.author else w["someone"]
    url = links.subject_url(settings, str(note.subject_type), note.subject_id, note.id)
    subject = w["mention_subject"].format(author=author, title=_short(title))
    text = w["mention_text"].format(author=author, title=title, body=note.body, url=url)
    return mail.build_message(settings, reader.email, subject, text, headers=HEADERS)


def reminder(settings: Settings, reader: User, match: Match, today: date):
    """The email reminding `reader` that the deadline of `match`'s offer is near."""
    lang = language_of(reader)
    w = WORDS[lang]
    offer = match.offer
    days = (offer.deadline - today).days
    key = "today" if days <= 0 else "one" if days == 1 else "many"
    subject = w[f"reminder_subject_{key}"].format(offer=_short(offer.title), days=days)
    text = w["reminder_text"].format(
        offer=offer.title,
        ally=offer.organization.name,
        deadline=format_date(offer.deadline, "long", locale=lang),
        project=match.project.title,
        status=w[str(match.status)],
        url=links.subject_url(settings, "match", match.id),
        mine=links.mine_url(settings),
    )
    return mail.build_message(settings, reader.email, subject, text, headers=HEADERS)


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
