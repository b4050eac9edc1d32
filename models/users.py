"""People who sign in, and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, enum_column
from models.enums import Language, Role
from models.organizations import Organization


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    language: Mapped[Language] = mapped_column(
        enum_column(Language, "user_language"), default=Language.ES
    )
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )

    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    # Carried in each signed session; bumped on sign-out, password change and deactivation,
    # so every session made before stops working at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The secret part of the person's calendar link; None when they have none (or revoked it).
    calendar_key: Mapped[str | None] = mapped_column(sa.String(64))

    organization: Mapped[Organization | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role <> 'partner' OR organization_id IS NOT NULL", name="partner_org"),
    )

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.STAFF)

    # The session-user protocol Flask-Login expects, written out so models import no Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")
