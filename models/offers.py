"""Offers: what allies put on the table (a call, a fund, technical assistance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Scored, Timestamps, enum_column, in_check
from models.enums import Currency, OfferSource, OfferStatus
from models.organizations import Organization


class Offer(Scored, Timestamps, Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    modalities: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    lines: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    amount_min: Mapped[Decimal | None] = mapped_column(Money)
    amount_max: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    eligible_kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    eligible_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    opens_on: Mapped[date | None] = mapped_column(sa.Date)
    deadline: Mapped[date | None] = mapped_column(sa.Date, index=True)
    language: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.SUBMITTED, index=True
    )
    source: Mapped[OfferSource] = mapped_column(
        enum_column(OfferSource, "offer_source"), default=OfferSource.API
    )
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))

    organization: Mapped[Organization] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("amount_min IS NULL OR amount_min >= 0", name="amount_min_positive"),
        sa.CheckConstraint("amount_max IS NULL OR amount_max >= 0", name="amount_max_positive"),
        sa.CheckConstraint(
            "amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max",
            name="amount_range",
        ),
        sa.CheckConstraint(
            "currency IS NOT NULL OR (amount_min IS NULL AND amount_max IS NULL)",
            name="amount_has_currency",
        ),
        sa.CheckConstraint(
            "currency IS NULL OR " + in_check("currency", [c.value for c in Currency]),
            name="currency_code",
        ),
        sa.CheckConstraint(
            "opens_on IS NULL OR deadline IS NULL OR opens_on <= deadline", name="window"
        ),
    )

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r}>"
