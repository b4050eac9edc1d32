"""Staff work on records: notes threads, the emails their @mentions send, and deadline
reminders. Owners are columns of the records themselves (projects, matches, alliances)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, enum_column
from models.digests import DeliveryRow
from models.matches import Match
from models.users import User


class NoteSubject(StrEnum):
    PROJECT = "project"
    MATCH = "match"
    ALLIANCE = "alliance"


class Note(Timestamps, Base):
    """One message of the thread on a project, a match or an alliance; plain text."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[NoteSubject] = mapped_column(enum_column(NoteSubject, "note_subject"))
    subject_id: Mapped[int] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    author: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_notes_subject", "subject_type", "subject_id", "id"),)

    def __repr__(self) -> str:
        return f"<Note {self.id} on {self.subject_type} {self.subject_id}>"


class NoteMention(DeliveryRow, Base):
    """The email telling a colleague a note names them: one row per (person, note), whose
    period is the note ("note-<id>"), sent by the digest's machinery."""

    __tablename__ = "note_mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("notes.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()
    note: Mapped[Note] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "period"),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0", name="counts_positive"),
    )


class DeadlineReminder(DeliveryRow, Base):
    """The email reminding a match's owner of its offer's deadline: one row per (match,
    threshold), whose period is the threshold ("14d"), sent by the digest's machinery."""

    __tablename__ = "deadline_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(sa.ForeignKey("matches.id", ondelete="CASCADE"))

    match: Mapped[Match] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("match_id", "period"),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0", name="counts_positive"),
        sa.Index("ix_deadline_reminders_period_status", "period", "status"),
    )
