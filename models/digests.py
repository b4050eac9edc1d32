"""Weekly digests: who subscribes to new matches, what each week sent, and match score marks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, enum_column
from models.enums import Language
from models.users import User


class SubscriptionKind(StrEnum):
    STAFF = "staff"  # new matches, filtered by thematic lines and a minimum score
    PARTNER = "partner"  # new projects matched to the partner organisation's offers


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    UNSUBSCRIBED = "unsubscribed"


class DigestSendStatus(StrEnum):
    PENDING = "pending"  # built and reserved for the period; not yet accepted by SMTP
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; a retry is scheduled


class Subscription(Timestamps, Base):
    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[SubscriptionKind] = mapped_column(
        enum_column(SubscriptionKind, "subscription_kind")
    )
    lines: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    min_score: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    language: Mapped[Language] = mapped_column(
        enum_column(Language, "subscription_language"), default=Language.ES
    )
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status"),
        default=SubscriptionStatus.ACTIVE,
        index=True,
    )
    # Matches that appeared or improved up to this moment were covered by a sent digest.
    covered_until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    last_period: Mapped[str | None] = mapped_column(sa.String(8))
    last_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("user_id", "kind"),
        sa.CheckConstraint("min_score >= 0 AND min_score <= 1", name="min_score_range"),
    )

    def __repr__(self) -> str:
        return f"<Subscription {self.id} {self.kind} user={self.user_id} {self.status}>"


class DeliveryRow(Timestamps):
    """One email for one recipient and period, reserved before sending and marked sent after.

    The columns services.digest.sending works with: each table of sends (weekly digests,
    saved-search emails) adds its owner column and UNIQUE (owner, period).
    """

    period: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[DigestSendStatus] = mapped_column(
        enum_column(DigestSendStatus, "digest_send_status"), default=DigestSendStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    window_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    match_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # What the email shows, best first: [match_id, score] pairs, or offer ids.
    items: Mapped[list] = mapped_column(sa.JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(sa.String(200))
    # Set by the worker sending the row, so two workers never send it at the same time.
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class DigestSend(DeliveryRow, Base):
    """One row per (subscription, period): reserved before sending, marked sent after."""

    __tablename__ = "digest_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("digest_subscriptions.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(sa.String(8))  # ISO week in the agency's time zone

    subscription: Mapped[Subscription] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "period"),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0", name="counts_positive"),
        sa.Index("ix_digest_sends_period_status", "period", "status"),
    )


class DigestMatchMark(Base):
    """The best score of a match the digests have seen, and when it appeared or last rose.

    Scoring rewrites every match nightly (same score, new `updated_at`), so `updated_at` cannot
    tell an improvement; the weekly run compares each score with this mark instead.
    """

    __tablename__ = "digest_match_marks"

    match_id: Mapped[int] = mapped_column(
        sa.ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(sa.Float)
    raised_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
