"""The digest email of a subscriber: the matches it shows, with their links, composed in the
subscriber's language, with the RFC 8058 one-click unsubscribe headers."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import DigestSend, Match, Offer, Organization, Project
from models.digests import Subscription, SubscriptionKind
from services import clock, mail
from services.digest import links, sending, templates
from services.digest.subscriptions import unsubscribe_token


def load_items(
    session: Session, settings: Settings, kind: str, match_ids: list[int]
) -> list[templates.Item]:
    """The matches to show, in the given order, with their titles and links: one query."""
    if not match_ids:
        return []
    rows = session.execute(
        sa.select(
            Match.id,
            Match.project_id,
            Match.offer_id,
            Match.score,
            Match.explanation,
            Project.title,
            Offer.title,
            Offer.deadline,
            Organization.name,
        )
        .join(Project, Project.id == Match.project_id)
        .join(Offer, Offer.id == Match.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .where(Match.id.in_(match_ids))
    )
    by_id = {}
    for (
        match_id,
        project_id,
        offer_id,
        score,
        explanation,
        project_title,
        offer_title,
        deadline,
        ally,
    ) in rows:
        by_id[match_id] = templates.Item(
            match_id,
            project_id,
            offer_id,
            project_title,
            offer_title,
            ally,
            float(score),
            deadline,
            explanation,
            match_url(settings, kind, project_id, offer_id, match_id),
        )
    return [by_id[i] for i in match_ids if i in by_id]


def match_url(settings: Settings, kind: str, project_id: int, offer_id: int, match_id: int) -> str:
    """Staff open the project's page at the match; partners their offer's match list."""
    if kind == SubscriptionKind.PARTNER:
        return links.url(settings, links.PARTNER_MATCH, offer_id=offer_id, match_id=match_id)
    return links.url(settings, links.STAFF_MATCH, project_id=project_id, match_id=match_id)


def unsubscribe_url(settings: Settings, sub: Subscription) -> str:
    """The one-click unsubscribe address of `sub`'s current subscription period."""
    token = unsubscribe_token(settings.secret_key, sub)
    return links.url(settings, links.UNSUBSCRIBE, token=token)


def compose(
    session: Session,
    settings: Settings,
    sub: Subscription,
    *,
    match_ids: list[int],
    total: int,
    since: datetime,
    all_url: str,
    preview: bool = False,
) -> templates.Email:
    """Subject, text and HTML of `sub`'s digest showing `match_ids` out of `total`."""
    items = load_items(session, settings, str(sub.kind), match_ids)
    local_since = clock.local(since, settings.timezone)
    return templates.compose(
        lang=str(sub.language),
        kind=str(sub.kind),
        items=items,
        total=total,
        since=local_since,
        all_url=all_url,
        manage_url=links.url(settings, links.SUBSCRIPTIONS),
        unsubscribe_url=unsubscribe_url(settings, sub),
        preview=preview,
    )


def compose_reserved(
    session: Session, settings: Settings, sub: Subscription, row: DigestSend, preview: bool = False
) -> templates.Email:
    """The email of a reserved (or sent) row: its matches, its window, a link to all of them."""
    return compose(
        session,
        settings,
        sub,
        match_ids=[i for i, _ in row.items],
        total=row.match_count,
        since=row.window_start,
        all_url=links.url(settings, links.SENT_DIGEST, send_id=row.id),
        preview=preview,
    )


def compose_message(session: Session, settings: Settings, sub: Subscription, row: DigestSend):
    """The email for a reserved row, with RFC 8058 one-click unsubscribe headers."""
    email = compose_reserved(session, settings, sub, row)
    message_id = f"<digest-{sub.id}-{row.period}@{sending.mail_domain(settings)}>"
    return message_for(settings, sub.user.email, email.unsubscribe_url, email, message_id)


def message_for(
    settings: Settings,
    to: str,
    unsubscribe: str,
    email: templates.Email,
    message_id: str | None = None,
):
    """The email `email` for `to`, with one-click unsubscribe headers naming `unsubscribe`."""
    message = mail.build_message(
        settings, to, email.subject, email.text, email.html, sending.list_headers(unsubscribe)
    )
    if message_id:
        message.replace_header("Message-ID", message_id)
    return message
