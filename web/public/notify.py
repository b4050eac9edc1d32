"""The emails of the public forms, in the page's language: the follow link and new links.

They are sent after the offer is stored; a failure is logged and reported to the caller, which
shows a gentle note, and never undoes the submission.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app, render_template, url_for
from flask_babel import gettext as _

from models import Offer
from services import mail, submissions
from web.db import runtime

log = logging.getLogger(__name__)
SUBJECT_TITLE_LENGTH = 80


def follow_url(token: str) -> str:
    """The absolute follow link, on the site's public address (COOPMATCH_BASE_URL)."""
    return runtime().settings.base_url + url_for("public.follow_offer", token=token)


def follow_token(offer: Offer) -> str:
    return submissions.follow_token(current_app.config["SECRET_KEY"], offer)


def _one_line(text: str) -> str:
    # Header values must not carry line breaks; titles come from strangers.
    text = " ".join(text.split())
    if len(text) > SUBJECT_TITLE_LENGTH:
        text = text[: SUBJECT_TITLE_LENGTH - 1] + "…"
    return text


def _send(to: str, subject: str, text: str) -> bool:
    settings = runtime().settings
    try:
        mail.send(settings, mail.build_message(settings, to, subject, text))
    except (mail.MailError, OSError, ValueError) as exc:
        log.warning("could not send %r to %s: %s", subject, to, exc)
        return False
    return True


def send_confirmation(offer: Offer, token: str) -> bool:
    """Email the offer's contact that it was received, with its follow link; True if sent."""
    if not offer.contact_email:
        return False
    text = render_template(
        "public/email/confirmation.txt",
        offer=offer,
        follow_url=follow_url(token),
        days=submissions.DEFAULT_LINK_MAX_AGE.days,
    )
    subject = _("We received your offer: %(title)s", title=_one_line(offer.title))
    return _send(offer.contact_email, subject, text)


def send_links(email: str, offers: Iterable[Offer]) -> bool:
    """Email fresh follow links for `offers` to `email`; True if sent."""
    items = [(offer, follow_url(follow_token(offer))) for offer in offers]
    if not items:
        return False
    text = render_template(
        "public/email/links.txt", items=items, days=submissions.DEFAULT_LINK_MAX_AGE.days
    )
    return _send(email, _("Links to follow your offers"), text)


def status_url(offer: Offer) -> str:
    """The absolute, signed link to the offer's follow page (the API answers with it)."""
    return follow_url(follow_token(offer))
