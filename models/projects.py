"""Projects: the city's demand for cooperation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Scored, Timestamps, enum_column, in_check
from models.enums import Currency, ProjectStage, ProjectStatus
from models.organizations import Organization
from models.users import User


class Project(Scored, Timestamps, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(8))
    lines: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    modalities: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    cofinancing: Mapped[Decimal] = mapped_column(Money, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3))
    territory: Mapped[str | None] = mapped_column(sa.String(200))
    stage: Mapped[ProjectStage] = mapped_column(
        enum_column(ProjectStage, "project_stage"), default=ProjectStage.IDEA
    )
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus, "project_status"), default=ProjectStatus.OPEN, index=True
    )

    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    organization: Mapped[Organization] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_positive"),
        sa.CheckConstraint("cofinancing >= 0", name="cofinancing_positive"),
        sa.CheckConstraint(
            "budget IS NULL OR cofinancing <= budget", name="cofinancing_within_budget"
        ),
        sa.CheckConstraint(in_check("currency", [c.value for c in Currency]), name="currency_code"),
        sa.CheckConstraint(
            "starts_on IS NULL OR ends_on IS NULL OR starts_on <= ends_on", name="dates"
        ),
    )

    @property
    def remaining_need(self) -> float | None:
        """Budget still to be found after co-financing, in the project's currency."""
        if self.budget is None:
            return None
        return max(float(self.budget) - float(self.cofinancing or 0), 0.0)

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.title!r}>"
