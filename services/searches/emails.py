"""The emails of saved searches, in the subscriber's language: what is new (in the digest's
layout, with its one-click unsubscribe headers) and the confirmation of an email subscription.

The words live here, beside the digest's (services.digest.templates), so a worker writes the
emails without a Flask app.
"""

from __future__ import annotations

from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy.orm import Session

from config import Settings
from models import SavedSearch, SavedSearchSend
from models.searches import SearchScope
from services import clock, mail, opportunities
from services.digest import links, sending, templates
from services.digest.messages import load_items
from services.searches import store

WORDS = {
    "es": {
        "subject_offers_one": "CoopMatch: 1 oportunidad nueva para «{name}»",
        "subject_offers_many": "CoopMatch: {n} oportunidades nuevas para «{name}»",
        "subject_matches_one": "CoopMatch: 1 coincidencia nueva para «{name}»",
        "subject_matches_many": "CoopMatch: {n} coincidencias nuevas para «{name}»",
        "heading_offers": "Oportunidades nuevas: {name}",
        "heading_matches": "Coincidencias nuevas: {name}",
        "intro_offers_one": "Desde el {since} se publicó 1 oportunidad que cumple su búsqueda.",
        "intro_offers_many": (
            "Desde el {since} se publicaron {n} oportunidades que cumplen su búsqueda."
        ),
        "intro_matches_one": "Desde el {since} apareció 1 coincidencia que cumple su filtro.",
        "intro_matches_many": (
            "Desde el {since} aparecieron {n} coincidencias que cumplen su filtro."
        ),
        "see_all_offers": "Ver la búsqueda completa",
        "see_all_matches": "Abrir el filtro en la cola de revisión",
        "open_offer": "Ver la oportunidad",
        "amount": "Monto",
        "why": "Recibe este correo porque se suscribió a la búsqueda guardada «{name}» ({freq}).",
        "immediate": "en cuanto hay novedades",
        "daily": "cada día",
        "weekly": "cada semana",
        "confirm_subject": "Confirme su suscripción a «{name}» en CoopMatch",
        "confirm_text": (
            "Alguien (seguramente usted) pidió recibir por correo las oportunidades nuevas de "
            "la búsqueda «{name}» ({freq}) en CoopMatch.\n\n"
            "Para empezar a recibirlas, abra este enlace y confirme (vale {days} días):\n{url}\n\n"
            "Si no lo pidió, ignore este correo: no recibirá nada más."
        ),
    },
    "en": {
        "subject_offers_one": "CoopMatch: 1 new opportunity for “{name}”",
        "subject_offers_many": "CoopMatch: {n} new opportunities for “{name}”",
        "subject_matches_one": "CoopMatch: 1 new match for “{name}”",
        "subject_matches_many": "CoopMatch: {n} new matches for “{name}”",
        "heading_offers": "New opportunities: {name}",
        "heading_matches": "New matches: {name}",
        "intro_offers_one": "Since {since}, 1 opportunity that fits your search was published.",
        "intro_offers_many": (
            "Since {since}, {n} opportunities that fit your search were published."
        ),
        "intro_matches_one": "Since {since}, 1 match that fits your filter appeared.",
        "intro_matches_many": "Since {since}, {n} matches that fit your filter appeared.",
        "see_all_offers": "See the whole search",
        "see_all_matches": "Open the filter in the review queue",
        "open_offer": "See the opportunity",
        "amount": "Amount",
        "why": "You receive this email because you subscribed to the saved search “{name}” "
        "({freq}).",
        "immediate": "as soon as there is something new",
        "daily": "daily",
        "weekly": "weekly",
        "confirm_subject": "Confirm your subscription to “{name}” on CoopMatch",
        "confirm_text": (
            "Someone (most likely you) asked to receive the new opportunities of the search "
            "“{name}” ({freq}) from CoopMatch by email.\n\n"
            "To start receiving them, open this link and confirm (valid for {days} days):\n"
            "{url}\n\n"
            "If you did not ask for this, ignore this email: you will receive nothing more."
        ),
    },
}

OFFERS_TEXT = """\
{% extends "layout.txt" %}{% block items %}{% for item in items -%}
{{ loop.index }}. {{ item.title }}
   {{ w.ally }}: {{ item.ally }}{% if item.amount %} · {{ w.amount }}: {{ item.amount }}{% endif %}
   {{ w.deadline }}: {{ item.deadline_text }}
   {{ item.url }}

{% endfor %}{% endblock %}"""

OFFERS_HTML = """\
{% extends "layout.html" %}{% block items %}{% for item in items %}
<tr><td style="padding:16px 24px;border-top:1px solid #e4e7eb;">
<p style="margin:0 0 4px 0;font-size:16px;line-height:22px;font-weight:bold;">\
<a href="{{ item.url }}" style="color:#0b5394;text-decoration:underline;">{{ item.title }}</a></p>
<p style="margin:0 0 6px 0;font-size:14px;line-height:20px;color:#3e4c59;">\
{{ w.ally }}: {{ item.ally }}{% if item.amount %} &middot; {{ w.amount }}: {{ item.amount }}\
{% endif %}</p>
<p style="margin:0 0 6px 0;font-size:14px;line-height:20px;">\
{{ w.deadline }}: {{ item.deadline_text }}</p>
<p style="margin:0;font-size:14px;"><a href="{{ item.url }}" \
style="color:#0b5394;">{{ w.open_offer }} &rarr;</a></p>
</td></tr>
{% endfor %}{% endblock %}"""

_RENDERER = templates.Renderer(
    {**templates.MATCHES, "offers.txt": OFFERS_TEXT, "offers.html": OFFERS_HTML}
)


def language_of(search: SavedSearch) -> str:
    """An account's searches follow its language; an address's keep the one it chose."""
    lang = str(search.user.language) if search.user is not None else str(search.language)
    return lang if lang in templates.LANGUAGES else "es"


def search_url(settings: Settings, search: SavedSearch) -> str:
    """The search's page with its filters: the public list or the review queue."""
    path = links.OPPORTUNITIES if search.scope == SearchScope.OPPORTUNITIES else links.QUEUE
    query = urlencode(search.params or {})
    return links.url(settings, path) + (f"?{query}" if query else "")


def unsubscribe_url(settings: Settings, search: SavedSearch) -> str:
    token = store.unsubscribe_token(settings.secret_key, search)
    return links.url(settings, links.SEARCH_UNSUBSCRIBE, token=token)


def _amount(offer: opportunities.PublicOffer, lang: str) -> str:
    if offer.amount_max is None and offer.amount_min is None:
        return ""
    numbers = [
        format_decimal(v, format="#,##0", locale=lang)
        for v in (offer.amount_min, offer.amount_max)
        if v is not None
    ]
    return f"{offer.currency} " + " – ".join(numbers)


def _offer_view(settings: Settings, offer: opportunities.PublicOffer, lang: str) -> dict:
    return {
        "title": offer.title,
        "ally": offer.ally,
        "amount": _amount(offer, lang),
        "deadline_text": templates.deadline_text(offer.deadline, lang),
        "url": links.url(settings, links.OPPORTUNITY, offer_id=offer.id),
    }


def compose(
    session: Session, settings: Settings, search: SavedSearch, row: SavedSearchSend
) -> templates.Email:
    """What is new for `search` in the reserved row's window, in the subscriber's language."""
    lang = language_of(search)
    w = {**templates.WORDS[lang], **WORDS[lang]}
    kind = "offers" if search.scope == SearchScope.OPPORTUNITIES else "matches"
    if kind == "offers":
        today = clock.agency_today(settings.timezone)
        items = [
            _offer_view(settings, offer, lang)
            for offer in opportunities.load(session, [int(i) for i in row.items], today)
        ]
    else:
        shown = load_items(session, settings, "staff", [int(i) for i, _score in row.items])
        items = [templates.match_view(item, lang) for item in shown]
    n = row.match_count
    since = clock.local(row.window_start, settings.timezone).date()
    context = {
        "lang": lang,
        "w": w,
        "preview": False,
        "items": items,
        "subject": w[f"subject_{kind}_{'one' if n == 1 else 'many'}"].format(n=n, name=search.name),
        "heading": w[f"heading_{kind}"].format(name=search.name),
        "intro": w[f"intro_{kind}_{'one' if n == 1 else 'many'}"].format(
            n=n, since=format_date(since, "long", locale=lang)
        ),
        "more": True,  # the email always links to the whole search
        "shown": "",
        "see_all": w[f"see_all_{kind}"],
        "all_url": search_url(settings, search),
        "why": w["why"].format(name=search.name, freq=w[str(search.frequency)]),
        "manage_url": links.url(settings, links.SAVED_SEARCHES) if search.user_id else None,
        "unsubscribe_url": unsubscribe_url(settings, search),
    }
    return _RENDERER.render(kind, context)


def message(session: Session, settings: Settings, search: SavedSearch, row: SavedSearchSend):
    """The email of a reserved row, with one-click unsubscribe headers and a fixed Message-ID."""
    email = compose(session, settings, search, row)
    built = mail.build_message(
        settings,
        search.recipient,
        email.subject,
        email.text,
        email.html,
        sending.list_headers(email.unsubscribe_url),
    )
    built.replace_header(
        "Message-ID",
        f"<search-{search.id}-{row.period.replace(':', '')}@{sending.mail_domain(settings)}>",
    )
    return built


def send_confirmation(settings: Settings, search: SavedSearch) -> None:
    """Email the link that confirms an email subscription (raises mail.MailError)."""
    lang = language_of(search)
    w = WORDS[lang]
    token = store.confirmation_token(settings.secret_key, search)
    text = w["confirm_text"].format(
        name=search.name,
        freq=w[str(search.frequency)],
        days=store.DEFAULT_CONFIRM_MAX_AGE.days,
        url=links.url(settings, links.SEARCH_CONFIRM, token=token),
    )
    subject = w["confirm_subject"].format(name=search.name)
    mail.send(settings, mail.build_message(settings, search.email, subject, text))
