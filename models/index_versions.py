"""Fitted matcher indexes, one row per version, and the chunks of a rebuild that are done."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from models.enums import IndexState


class IndexVersion(Base):
    """A matcher index fitted once and saved in the index directory under its version id.

    `created_at` is the moment its items were read: items changed since then are the delta that
    new items are also ranked against until the next fit.
    """

    __tablename__ = "index_versions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    fitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    n_offers: Mapped[int] = mapped_column(default=0, server_default="0")
    n_projects: Mapped[int] = mapped_column(default=0, server_default="0")
    state: Mapped[IndexState] = mapped_column(
        enum_column(IndexState, "index_state"), default=IndexState.FITTING
    )

    __table_args__ = (
        sa.CheckConstraint("n_offers >= 0 AND n_projects >= 0", name="counts_positive"),
    )


class RebuildChunk(Base):
    """One chunk of a rebuild's projects, written when its matches are committed."""

    __tablename__ = "rebuild_chunks"

    job_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    chunk: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    rows: Mapped[int] = mapped_column(default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(sa.String(200))  # who ranked it
    done_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
