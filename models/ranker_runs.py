"""Retrains of the learned ranker on the staff's decisions: one row per run, adopted or not."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column
from models.enums import RankerRunState, RankerTrigger
from models.users import User


class RankerRun(Base):
    """One retrain: the candidate fitted on decisions taken before `cutoff`, compared with the
    model in use on the decisions taken after it, and adopted only if better with no guard slice
    worse. The model in use is the newest adopted run's (none: the weighted mean)."""

    __tablename__ = "ranker_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[RankerTrigger] = mapped_column(enum_column(RankerTrigger, "ranker_trigger"))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    state: Mapped[RankerRunState] = mapped_column(
        enum_column(RankerRunState, "ranker_run_state"), default=RankerRunState.QUEUED, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), index=True
    )
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # decisions taken before it trained the candidate; those from it on were held out
    cutoff: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    n_train_accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    n_train_rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    n_heldout_accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    n_heldout_rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    n_heldout_projects: Mapped[int] = mapped_column(default=0, server_default="0")
    # the held-out measure (MRR@10 of the accepted offers) of the model in use and the candidate
    current_score: Mapped[float | None] = mapped_column(sa.Float)
    candidate_score: Mapped[float | None] = mapped_column(sa.Float)
    # per guard slice: [{"slice": "lang=es", "n": 12, "current": 0.61, "candidate": 0.64}, ...]
    slices: Mapped[list] = mapped_column(sa.JSON, default=list)
    importance: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # what the candidate leaned on
    adopted: Mapped[bool | None] = mapped_column(sa.Boolean)
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why adopted, refused or failed
    matcher_version: Mapped[str | None] = mapped_column(sa.String(64))
    model_id: Mapped[str | None] = mapped_column(sa.String(64))  # hash of `model`
    model: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # the candidate, saved

    requested_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "n_train_accepted >= 0 AND n_train_rejected >= 0 AND n_heldout_accepted >= 0"
            " AND n_heldout_rejected >= 0 AND n_heldout_projects >= 0",
            name="counts_positive",
        ),
    )
