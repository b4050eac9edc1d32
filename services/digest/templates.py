"""The digest email itself: subject, plain text and HTML in the subscriber's language.

The words live in a small Spanish/English table here rather than in the web's .po files, so a
worker renders the email without a Flask app. The HTML uses inline styles and tables only (mail
clients drop <style> blocks and external CSS) and no remote images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date
from babel.numbers import format_percent
from jinja2 import DictLoader, Environment

LANGUAGES = ("es", "en")

WORDS = {
    "es": {
        "subject_one": "CoopMatch: 1 coincidencia nueva esta semana",
        "subject_many": "CoopMatch: {n} coincidencias nuevas esta semana",
        "heading_staff": "Coincidencias nuevas o mejoradas",
        "heading_partner": "Proyectos nuevos para sus ofertas",
        "intro_one": "Desde el {since} apareció o mejoró 1 coincidencia.",
        "intro_many": "Desde el {since} aparecieron o mejoraron {n} coincidencias.",
        "shown": "Se muestran las {k} mejores.",
        "offer": "Oferta",
        "ally": "Aliado",
        "score": "Puntaje",
        "deadline": "Cierre",
        "no_deadline": "sin fecha de cierre",
        "open": "Ver la coincidencia",
        "see_all": "Ver las {n} coincidencias",
        "why_staff": "Recibe este correo porque está suscrito al resumen semanal de CoopMatch.",
        "why_partner": "Recibe este correo porque su organización tiene ofertas en CoopMatch.",
        "manage": "Gestionar la suscripción",
        "unsubscribe": "Cancelar la suscripción",
        "preview": "Vista previa: este correo no cuenta como el envío de la semana.",
    },
    "en": {
        "subject_one": "CoopMatch: 1 new match this week",
        "subject_many": "CoopMatch: {n} new matches this week",
        "heading_staff": "New or improved matches",
        "heading_partner": "New projects for your offers",
        "intro_one": "Since {since}, 1 match appeared or improved.",
        "intro_many": "Since {since}, {n} matches appeared or improved.",
        "shown": "The best {k} are shown.",
        "offer": "Offer",
        "ally": "Ally",
        "score": "Score",
        "deadline": "Deadline",
        "no_deadline": "no deadline",
        "open": "Open the match",
        "see_all": "See all {n} matches",
        "why_staff": (
            "You receive this email because you subscribed to the CoopMatch weekly digest."
        ),
        "why_partner": "You receive this email because your organisation has offers in CoopMatch.",
        "manage": "Manage the subscription",
        "unsubscribe": "Unsubscribe",
        "preview": "Preview: this email does not count as the week's digest.",
    },
}


@dataclass(frozen=True)
class Item:
    """One match as the email shows it."""

    match_id: int
    project_id: int
    offer_id: int
    project_title: str
    offer_title: str
    ally: str
    score: float
    deadline: date | None
    explanation: dict | None
    url: str

    def why(self, lang: str) -> str:
        """The first phrase of the explanation in `lang` (the other language if it has none)."""
        explanation = self.explanation or {}
        for code in (lang, *(c for c in LANGUAGES if c != lang)):
            phrases = explanation.get(code) or []
            if phrases:
                return str(phrases[0])
        return ""


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    # The address the body links to for unsubscribing: the List-Unsubscribe header must carry
    # the very same one (a token signed a second later would differ).
    unsubscribe_url: str | None = None


# The layout every list email shares (the digest, saved searches); each kind of email fills
# the `items` block. Text first, then HTML.
LAYOUT_TEXT = """\
{{ heading }}
{{ "=" * heading|length }}

{{ intro }}{% if more %} {{ shown }}{% endif %}

{% block items %}{% endblock -%}
{% if more %}{{ see_all }}: {{ all_url }}

{% endif -%}
--
{% if preview %}{{ w.preview }}
{% endif %}{{ why }}
{% if manage_url %}{{ w.manage }}: {{ manage_url }}
{% endif %}{{ w.unsubscribe }}: {{ unsubscribe_url }}
"""

MATCHES_TEXT = """\
{% extends "layout.txt" %}{% block items %}{% for item in items -%}
{{ loop.index }}. {{ item.project_title }}
   {{ w.offer }}: {{ item.offer_title }} ({{ w.ally }}: {{ item.ally }})
   {{ w.score }}: {{ item.score_text }} · {{ w.deadline }}: {{ item.deadline_text }}
{% if item.why %}   {{ item.why }}
{% endif %}   {{ item.url }}

{% endfor %}{% endblock %}"""

LAYOUT_HTML = """\
<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;\
font-family:Arial,Helvetica,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" \
style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid #e4e7eb;">
<tr><td style="padding:24px 24px 8px 24px;">
<p style="margin:0 0 8px 0;font-size:13px;letter-spacing:1px;color:#0b5394;\
font-weight:bold;">COOPMATCH</p>
<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;color:#1f2933;">{{ heading }}</h1>
{% if preview %}<p style="margin:0 0 12px 0;padding:8px;font-size:13px;\
background-color:#fff4d6;color:#6b4e00;">{{ w.preview }}</p>{% endif %}
<p style="margin:0;font-size:15px;line-height:22px;">{{ intro }}{% if more %} \
{{ shown }}{% endif %}</p>
</td></tr>
{% block items %}{% endblock %}
{% if more %}
<tr><td style="padding:16px 24px;border-top:1px solid #e4e7eb;">
<a href="{{ all_url }}" style="display:inline-block;padding:10px 16px;\
background-color:#0b5394;color:#ffffff;text-decoration:none;font-weight:bold;">\
{{ see_all }}</a>
</td></tr>
{% endif %}
<tr><td style="padding:16px 24px 24px 24px;border-top:1px solid #e4e7eb;\
font-size:12px;line-height:18px;color:#616e7c;">
<p style="margin:0 0 6px 0;">{{ why }}</p>
<p style="margin:0;">{% if manage_url %}<a href="{{ manage_url }}" style="color:#616e7c;">\
{{ w.manage }}</a> &middot; {% endif %}<a href="{{ unsubscribe_url }}" \
style="color:#616e7c;">{{ w.unsubscribe }}</a></p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""

MATCHES_HTML = """\
{% extends "layout.html" %}{% block items %}{% for item in items %}
<tr><td style="padding:16px 24px;border-top:1px solid #e4e7eb;">
<p style="margin:0 0 4px 0;font-size:16px;line-height:22px;font-weight:bold;">\
<a href="{{ item.url }}" style="color:#0b5394;text-decoration:underline;">\
{{ item.project_title }}</a></p>
<p style="margin:0 0 6px 0;font-size:14px;line-height:20px;color:#3e4c59;">\
{{ w.offer }}: {{ item.offer_title }} &middot; {{ w.ally }}: {{ item.ally }}</p>
<p style="margin:0 0 6px 0;font-size:14px;line-height:20px;">\
<span style="display:inline-block;padding:2px 8px;background-color:#e3f1e6;\
color:#1e5b2b;font-weight:bold;">{{ w.score }} {{ item.score_text }}</span> \
&middot; {{ w.deadline }}: {{ item.deadline_text }}</p>
{% if item.why %}<p style="margin:0 0 6px 0;font-size:14px;line-height:20px;\
color:#3e4c59;">{{ item.why }}</p>{% endif %}
<p style="margin:0;font-size:14px;"><a href="{{ item.url }}" \
style="color:#0b5394;">{{ w.open }} &rarr;</a></p>
</td></tr>
{% endfor %}{% endblock %}"""

LAYOUTS = {"layout.txt": LAYOUT_TEXT, "layout.html": LAYOUT_HTML}
MATCHES = {"matches.txt": MATCHES_TEXT, "matches.html": MATCHES_HTML}


class Renderer:
    """Renders list emails: the shared layouts plus item templates (`NAME.txt`, `NAME.html`)."""

    def __init__(self, sources: dict[str, str]) -> None:
        loader = DictLoader({**LAYOUTS, **sources})
        self._text = Environment(loader=loader, autoescape=False, keep_trailing_newline=True)
        self._html = Environment(loader=loader, autoescape=True)

    def render(self, name: str, context: dict) -> Email:
        """The email of template `name` with `context` (which names the subject)."""
        return Email(
            subject=context["subject"],
            text=self._text.get_template(f"{name}.txt").render(context),
            html=self._html.get_template(f"{name}.html").render(context),
            unsubscribe_url=context.get("unsubscribe_url"),
        )


_DIGEST = Renderer(MATCHES)


def deadline_text(deadline: date | None, lang: str) -> str:
    """A deadline as the emails write it, in `lang`."""
    if deadline is None:
        return WORDS[lang]["no_deadline"]
    return format_date(deadline, "long", locale=lang)


def match_view(item: Item, lang: str) -> dict:
    """What the `matches` item block shows of one match."""
    return {
        "project_title": item.project_title,
        "offer_title": item.offer_title,
        "ally": item.ally,
        "url": item.url,
        "why": item.why(lang),
        "score_text": format_percent(item.score, locale=lang),
        "deadline_text": deadline_text(item.deadline, lang),
    }


def compose(
    *,
    lang: str,
    kind: str,
    items: list[Item],
    total: int,
    since: datetime,
    all_url: str,
    manage_url: str,
    unsubscribe_url: str,
    preview: bool = False,
) -> Email:
    """Return the subject, text and HTML of a digest showing `items` out of `total` matches."""
    lang = lang if lang in LANGUAGES else "es"
    w = WORDS[lang]
    n = total
    context = {
        "lang": lang,
        "w": w,
        "preview": preview,
        "items": [match_view(item, lang) for item in items],
        "subject": w["subject_one"] if n == 1 else w["subject_many"].format(n=n),
        "heading": w["heading_partner"] if kind == "partner" else w["heading_staff"],
        "intro": (w["intro_one"] if n == 1 else w["intro_many"]).format(
            n=n, since=format_date(since.date(), "long", locale=lang)
        ),
        "more": total > len(items),
        "shown": w["shown"].format(k=len(items)),
        "see_all": w["see_all"].format(n=n),
        "all_url": all_url,
        "why": w["why_partner"] if kind == "partner" else w["why_staff"],
        "manage_url": manage_url,
        "unsubscribe_url": unsubscribe_url,
    }
    return _DIGEST.render("matches", context)
