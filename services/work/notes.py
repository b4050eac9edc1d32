"""Notes threads on projects, matches and alliances: plain text, audited, editable by their
author for a while; `@handle` names a colleague, who is emailed once per note
(services.work.mentions)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Note, User
from models.work import NoteSubject
from services import audit, clock, outbox
from services.db import committing, fetch
from services.errors import Forbidden, Invalid
from services.work import mentions, owners

DEFAULT_EDIT_WINDOW = timedelta(minutes=15)
MAX_LENGTH = 5000
ENTITY = "note"
# "@" then a handle: the part of a colleague's email before the "@" (ana.gomez for
# ana.gomez@agency.gov.co); not preceded by a word character, so emails are not mentions.
MENTION = re.compile(r"(?<![\w@])@([\w][\w.+-]*)")


def handle_of(user: User) -> str:
    """How a colleague is mentioned: the local part of their email, lower case."""
    return user.email.split("@", 1)[0].lower()


def handles_in(body: str) -> set[str]:
    """The handles a text mentions (trailing dots and dashes are punctuation, not handle)."""
    return {m.group(1).rstrip(".-").lower() for m in MENTION.finditer(body)}


def mentioned(session: Session, body: str, author_id: int | None) -> list[User]:
    """The active staff members a text mentions, except its author."""
    handles = handles_in(body)
    if not handles:
        return []
    return [
        person
        for person in owners.staff(session)
        if handle_of(person) in handles and person.id != author_id
    ]


def clean_body(body: str | None) -> str:
    """The note's text, stripped; Invalid when empty or too long."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise Invalid("a note needs some text", {"body": ["Write the note."]})
    if len(text) > MAX_LENGTH:
        raise Invalid(
            f"a note has at most {MAX_LENGTH} characters",
            {"body": [f"Use at most {MAX_LENGTH} characters."]},
        )
    return text


def thread(session: Session, kind: str, item_id: int) -> list[Note]:
    """The notes on one record, oldest first."""
    return list(
        session.scalars(
            sa.select(Note)
            .where(Note.subject_type == NoteSubject(kind), Note.subject_id == item_id)
            .order_by(Note.id)
        )
    )


def add(
    session: Session, kind: str, item_id: int, author_id: int, body: str | None, now=None
) -> Note:
    """Write a note on a record; its mentions are emailed after the commit (by a worker)."""
    now = now or clock.now()
    fetch(session, owners.model_of(kind), item_id, kind)
    text = clean_body(body)
    with committing(session):
        note = Note(subject_type=NoteSubject(kind), subject_id=item_id, author_id=author_id)
        note.body = text
        session.add(note)
        session.flush()
        after = {"body": text, "subject": f"{kind}:{item_id}"}
        audit.record(session, author_id, ENTITY, note.id, "create", None, after)
        _notify(session, note, now)
    outbox.dispatch(session)
    return note


def editable(note: Note, user_id: int, now: datetime, window=DEFAULT_EDIT_WINDOW) -> bool:
    """Whether `user_id` may still change the note: its author, within the window."""
    return note.author_id == user_id and now - clock.aware(note.created_at) <= window


def get(session: Session, note_id: int) -> Note:
    return fetch(session, Note, note_id, "note")


def edit(session: Session, note_id: int, user_id: int, body: str | None, now=None) -> Note:
    """Change a note's text (its author, within the window); audited; new mentions emailed."""
    now = now or clock.now()
    note = get(session, note_id)
    if note.author_id != user_id:
        raise Forbidden("only its author may edit a note")
    if not editable(note, user_id, now):
        raise Invalid(
            "a note can be edited for 15 minutes after it is written",
            {"body": ["This note can no longer be edited."]},
        )
    text = clean_body(body)
    with committing(session):
        changed = audit.audited_update(session, note, user_id, ENTITY, "edit", {"body": text})
        if changed:
            note.edited_at = now
            _notify(session, note, now)
    outbox.dispatch(session)
    return note


def _notify(session: Session, note: Note, now: datetime) -> None:
    """Reserve an email for each newly mentioned colleague, and queue the sending."""
    people = mentioned(session, note.body, note.author_id)
    if mentions.reserve(session, note, [p.id for p in people], now):
        mentions.queue(session, note.id)
