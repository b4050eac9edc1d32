"""Feeds: external sources read on a schedule, their runs, funders' activity records and the
mapping of the sources' organisation references to allies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, enum_column
from models.enums import FeedKind, FeedRunState, MappingState
from models.organizations import Organization


class Feed(Timestamps, Base):
    """A source configured by an administrator: what to fetch, how often, what to keep."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, "feed_kind"))
    url: Mapped[str] = mapped_column(sa.String(1000))
    # Query parameters (GET) or the JSON body (POST) sent to the source, as given.
    query: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The NAME of the environment variable holding the key (COOPMATCH_FEED_KEY_*), never the key.
    api_key_env: Mapped[str | None] = mapped_column(sa.String(80))
    interval_minutes: Mapped[int] = mapped_column(default=1440, server_default="1440")
    countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    programmes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # New offers published at once, or left "submitted" for moderation.
    publish_at_once: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    etag: Mapped[str | None] = mapped_column(sa.String(300))
    last_modified: Mapped[str | None] = mapped_column(sa.String(100))
    next_run_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    # Set while a run holds the feed (one run at a time); a stale one is taken over.
    running_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("interval_minutes >= 5", name="interval_minimum"),)

    def __repr__(self) -> str:
        return f"<Feed {self.id} {self.name!r}>"


class FeedRun(Base):
    """One run of a feed (or one file imported as a kind): what it found and how it ended."""

    __tablename__ = "feed_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feeds.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, "feed_kind"))
    trigger: Mapped[str] = mapped_column(sa.String(20))  # schedule, manual, file
    state: Mapped[FeedRunState] = mapped_column(
        enum_column(FeedRunState, "feed_run_state"), default=FeedRunState.RUNNING
    )
    document: Mapped[str | None] = mapped_column(sa.String(120))
    new: Mapped[int] = mapped_column(default=0, server_default="0")
    updated: Mapped[int] = mapped_column(default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(default=0, server_default="0")
    closed: Mapped[int] = mapped_column(default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    first_error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column()

    feed: Mapped[Feed | None] = relationship()

    COUNTS = ("new", "updated", "unchanged", "closed", "skipped", "failed")

    def summary(self) -> str:
        """The counts as `new=N updated=N unchanged=N closed=N skipped=N failed=N`."""
        return " ".join(f"{name}={getattr(self, name) or 0}" for name in self.COUNTS)


class OrgMapping(Timestamps, Base):
    """A source's organisation reference (XM-DAC-41114, SE-0, 44002) and the ally it names."""

    __tablename__ = "org_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(300))
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[MappingState] = mapped_column(
        enum_column(MappingState, "mapping_state"), default=MappingState.SUGGESTED, index=True
    )

    organization: Mapped[Organization | None] = relationship(lazy="joined")


class AllyActivity(Timestamps, Base):
    """A funder's activity record (IATI activity, World Bank project), keyed on its IATI
    identifier so the same project read from two sources is one record."""

    __tablename__ = "ally_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    iati_identifier: Mapped[str] = mapped_column(sa.String(200), unique=True)
    source: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, "feed_kind"))
    source_id: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(500))
    # Every narrative with its language: [{"text", "lang", "kind"}].
    titles: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    descriptions: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    recipient_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sectors: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    start: Mapped[date | None] = mapped_column(sa.Date)
    end: Mapped[date | None] = mapped_column(sa.Date)
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(24, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    status: Mapped[str | None] = mapped_column(sa.String(20))
    link: Mapped[str | None] = mapped_column(sa.String(1000))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))

    funders: Mapped[list[ActivityFunder]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class ActivityFunder(Base):
    """A funding organisation (IATI role 1) of an activity, by its reference."""

    __tablename__ = "activity_funders"

    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ally_activities.id", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(sa.String(120), primary_key=True, index=True)
