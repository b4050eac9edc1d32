"""Per offer, the open offers whose text is nearest ("more like this"), kept by the matcher."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OfferNeighbours(Base):
    """The offer's nearest offers by the matcher's text side, best first, when last scored."""

    __tablename__ = "offer_neighbours"

    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    neighbour_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    scores: Mapped[list[float]] = mapped_column(sa.JSON, default=list)
    matcher_version: Mapped[str] = mapped_column(sa.String(64))
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
