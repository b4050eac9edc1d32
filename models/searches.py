"""Saved searches: a review-queue filter or a public opportunities search kept by name, and
the emails of what is new for the ones subscribed to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, enum_column
from models.digests import DeliveryRow
from models.enums import Language
from models.users import User


class SearchScope(StrEnum):
    OPPORTUNITIES = "opportunities"  # the public page, /opportunities
    QUEUE = "queue"  # the staff review queue, /staff/queue


class Frequency(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class SearchStatus(StrEnum):
    SAVED = "saved"  # kept by name, no email
    PENDING = "pending"  # subscribed by email, waiting for the confirmation link
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class SavedSearch(Timestamps, Base):
    """A search kept by name: a signed-in person's, or an email address's (public page only)."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[SearchScope] = mapped_column(enum_column(SearchScope, "search_scope"))
    name: Mapped[str] = mapped_column(sa.String(120))
    # The search's query-string filters, checked and normalised (services.searches.filters).
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    language: Mapped[Language] = mapped_column(
        enum_column(Language, "search_language"), default=Language.ES
    )
    status: Mapped[SearchStatus] = mapped_column(
        enum_column(SearchStatus, "search_status"), default=SearchStatus.SAVED
    )
    frequency: Mapped[Frequency | None] = mapped_column(enum_column(Frequency, "search_frequency"))
    # What appeared up to this moment was covered by a sent email (or predates subscribing).
    covered_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_period: Mapped[str | None] = mapped_column(sa.String(20))
    last_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL", name="has_recipient"),
        sa.CheckConstraint(
            "status NOT IN ('pending', 'subscribed') OR "
            "(frequency IS NOT NULL AND covered_until IS NOT NULL)",
            name="subscribed_has_frequency",
        ),
        sa.Index("ix_saved_searches_status_frequency", "status", "frequency"),
    )

    @property
    def recipient(self) -> str | None:
        """Where the emails go: the owner's address, or the one given on the public page."""
        return self.user.email if self.user is not None else self.email

    def __repr__(self) -> str:
        return f"<SavedSearch {self.id} {self.scope} {self.name!r} {self.status}>"


class SavedSearchSend(DeliveryRow, Base):
    """One row per (saved search, period): the digest's reservation, claim and retry rules."""

    __tablename__ = "saved_search_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(
        sa.ForeignKey("saved_searches.id", ondelete="CASCADE")
    )

    saved_search: Mapped[SavedSearch] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("saved_search_id", "period"),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0", name="counts_positive"),
        sa.Index("ix_saved_search_sends_period_status", "period", "status"),
    )
