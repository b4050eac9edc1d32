"""Matches proposed by the matcher, and the alliances that accepted matches become."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Timestamps, enum_column, in_check
from models.enums import AllianceStage, Currency, MatchStatus
from models.offers import Offer
from models.projects import Project
from models.users import User


class Match(Timestamps, Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(sa.Float)
    components: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    explanation: Mapped[dict | None] = mapped_column(sa.JSON)
    status: Mapped[MatchStatus] = mapped_column(
        enum_column(MatchStatus, "match_status"), default=MatchStatus.PROPOSED
    )
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    matcher_version: Mapped[str] = mapped_column(sa.String(64))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    project: Mapped[Project] = relationship()
    offer: Mapped[Offer] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    __table_args__ = (
        sa.UniqueConstraint("project_id", "offer_id", name="uq_matches_pair"),
        sa.CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        sa.Index("ix_matches_status_score", "status", "score"),
        sa.Index("ix_matches_score_id", "score", "id"),  # the review queue's order (migration 0003)
        # Decisions only, with every column services/quality.py reads (migration 0023).
        sa.Index(
            "ix_matches_decisions",
            "decided_at",
            "status",
            "score",
            "project_id",
            "offer_id",
            postgresql_where=sa.text("status IN ('accepted', 'rejected')"),
            sqlite_where=sa.text("status IN ('accepted', 'rejected')"),
        ),
    )


class Alliance(Timestamps, Base):
    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(
        sa.ForeignKey("matches.id", ondelete="RESTRICT"), unique=True
    )
    stage: Mapped[AllianceStage] = mapped_column(
        enum_column(AllianceStage, "alliance_stage"), default=AllianceStage.NEGOTIATING
    )
    amount: Mapped[Decimal] = mapped_column(Money, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    usd_rate: Mapped[Decimal] = mapped_column(sa.Numeric(20, 10), default=1)
    started_on: Mapped[date] = mapped_column(sa.Date)
    formalised_on: Mapped[date | None] = mapped_column(sa.Date)
    ended_on: Mapped[date | None] = mapped_column(sa.Date)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    match: Mapped[Match] = relationship()
    owner: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_positive"),
        sa.CheckConstraint("usd_rate > 0", name="usd_rate_positive"),
        sa.CheckConstraint(in_check("currency", [c.value for c in Currency]), name="currency_code"),
        sa.CheckConstraint(
            "formalised_on IS NULL OR started_on <= formalised_on", name="formalised_after_start"
        ),
        sa.CheckConstraint("ended_on IS NULL OR started_on <= ended_on", name="ended_after_start"),
    )

    @property
    def amount_usd(self) -> float:
        return float(self.amount) * float(self.usd_rate)
