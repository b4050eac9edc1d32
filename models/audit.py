"""The audit trail: who did what to which record, and the values before and after."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.users import User


class AuditEvent(Base):
    """One change made by a person: never updated or deleted, so the trail can be trusted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)

    user: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id", "id"),)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.entity_type} {self.entity_id}>"
