"""The declarative base, with a naming convention so migrations name constraints the same way."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.enums import ScoringState

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum_column(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint listing the values, on every database."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def in_check(column: str, values: list[str] | tuple[str, ...]) -> str:
    """SQL text for `column IN (...)`, for CHECK constraints on short code columns."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Timestamps:
    """Creation and update times, set by the database server."""

    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True),
        server_default=sa.func.now(),
        onupdate=sa.func.now(),
        nullable=False,
    )


class Scored:
    """Where an offer or a project stands with the matcher (shown by the API as `scoring`)."""

    scoring_state: Mapped[ScoringState] = mapped_column(
        enum_column(ScoringState, "scoring_state"),
        default=ScoringState.NOT_SCORED,
        server_default=ScoringState.NOT_SCORED.value,
        index=True,
    )
    scored_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


Money = sa.Numeric(20, 2)
