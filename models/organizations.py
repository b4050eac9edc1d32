"""Organisations: allies on the supply side and local entities on the demand side."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps, enum_column
from models.enums import OrgKind, Side


class Organization(Timestamps, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"))
    side: Mapped[Side] = mapped_column(enum_column(Side, "org_side"))
    country: Mapped[str] = mapped_column(sa.String(2))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))

    __table_args__ = (sa.CheckConstraint("length(country) = 2", name="country_code"),)

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"
