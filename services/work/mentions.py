"""The email telling a colleague that a note mentions them: once per (person, note).

Rows live in `note_mentions` and go through the digest's delivery machinery
(services.digest.sending): reserved with the note (UNIQUE (person, "note-<id>") keeps an
edit from mentioning someone twice), claimed and sent by a worker after the commit, a refused
message retried alone with the digest's delays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings
from models import Alliance, Match, Note, NoteMention, Project
from services import clock, outbox, task_names
from services.digest import sending
from services.work import emails

LEDGER = sending.Ledger(NoteMention, NoteMention.user_id)


def period_of(note_id: int) -> str:
    return f"note-{note_id}"


def reserve(session: Session, note: Note, user_ids: list[int], now: datetime) -> int:
    """Reserve one email per person not yet told about the note (the caller commits)."""
    rows = [
        {
            "user_id": user_id,
            "note_id": note.id,
            "period": period_of(note.id),
            "window_start": now,
            "window_end": now,
            "match_count": 1,
            "items": [note.id],
        }
        for user_id in user_ids
    ]
    return sending.reserve(session, LEDGER, rows)


def queue(session: Session, note_id: int) -> None:
    """Send the note's reserved emails after the caller's commit (outbox → worker)."""
    outbox.add(session, task_names.NOTE_MENTIONS, [note_id])


def send_note(session: Session, settings: Settings, note_id: int, now: datetime | None = None):
    """Send every reserved email of a note; return (sent, [(user id, period)] refused)."""
    now = now or clock.now()
    return sending.send_all(
        session,
        LEDGER,
        [period_of(note_id)],
        now,
        lambda user_id, period: send_one(session, settings, user_id, period, now=now),
    )


def subject_title(session: Session, note: Note) -> str:
    """What the note is about, as people name it: a project's title, or project · offer."""
    kind, item_id = str(note.subject_type), note.subject_id
    if kind == "project":
        project = session.get(Project, item_id)
        return project.title if project else f"#{item_id}"
    match = session.get(Match, item_id)
    if kind == "alliance":
        alliance = session.get(Alliance, item_id)
        match = alliance.match if alliance else None
    return f"{match.project.title} · {match.offer.title}" if match else f"#{item_id}"


def send_one(
    session: Session, settings: Settings, user_id: int, period: str, *, now=None
) -> NoteMention | None:
    """Send one reserved mention email; None when there is nothing to send. On an SMTP
    failure the row is marked failed and mail.MailError is raised for the caller to retry."""
    now = now or clock.now()
    row = sending.claim(session, LEDGER, user_id, period, now)
    if row is None:
        return None
    person, note = row.user, row.note
    if not person.active:
        sending.drop(session, row)
        return None
    message = emails.mention(settings, person, note, subject_title(session, note))
    message.replace_header(
        "Message-ID", f"<mention-{note.id}-{person.id}@{sending.mail_domain(settings)}>"
    )
    sending.deliver(session, settings, row, message, now, lambda: None)
    return row
