"""Offers: what allies put on the table (a call, a fund, technical assistance)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Scored, Timestamps, enum_column, in_check
from models.enums import Currency, OfferSource, OfferStatus
from models.organizations import Organization

_NOT_WORD = re.compile(r"[^\w]+")


def search_key(text: str | None) -> str:
    """`text` as search compares it: lower case, no accents or punctuation, single spaces.

    Stored beside each offer (`Offer.search_text`) and applied to the words searched, so
    "educacion" finds "Educación" on every database (SQLite's lower() knows only ASCII).
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def search_text_of(title: str | None, description: str | None) -> str:
    """The stored search text: the title's key, a newline, the description's key.

    The title comes first and alone on its line, so `LIKE '%word%' || newline || '%'` tells a
    word found in the title (ranked higher) from one found only in the description.
    """
    return f"{search_key(title)}\n{search_key(description)}"


def _search_default(context) -> str:
    params = context.get_current_parameters()
    return search_text_of(params.get("title"), params.get("description"))


def _published_default(context) -> datetime | None:
    status = context.get_current_parameters().get("status")
    return datetime.now(UTC) if str(getattr(status, "value", status)) == "published" else None


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
    # The public opportunities page shows the contact email only when this is False.
    contact_private: Mapped[bool] = mapped_column(
        sa.Boolean, default=True, server_default=sa.true()
    )
    # When the offer was first published: "new" for the Atom feed and saved-search emails.
    published_at: Mapped[datetime | None] = mapped_column(
        sa.DateTime(timezone=True), default=_published_default, index=True
    )
    # Derived from title and description (search_text_of), kept by the defaults and the
    # before_update hook below; never written by hand.
    search_text: Mapped[str] = mapped_column(sa.Text, default=_search_default, server_default="")
    # The text of the offer's public call documents as search compares them (search_key),
    # kept by services.documents.store; loaded only when read (it can be megabytes).
    documents_text: Mapped[str] = mapped_column(
        sa.Text, default="", server_default="", deferred=True
    )
    # A feed's offers: the source's own id and page, the feed that brought it, and a
    # fingerprint of the record last read (equal means unchanged). Staff-entered ones have none.
    source_id: Mapped[str | None] = mapped_column(sa.String(200))
    link: Mapped[str | None] = mapped_column(sa.String(1000))
    feed_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    feed_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    closed_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # Flagged by a feed import: possibly the same call as this other offer (staff merge).
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="SET NULL"), index=True
    )

    # False while a public submission claims an organisation that already existed: nobody has
    # checked the sender speaks for it, so its partners do not see the offer until staff publish
    # it (publishing confirms). True for everything else.
    organization_confirmed: Mapped[bool] = mapped_column(
        sa.Boolean, default=True, server_default=sa.true()
    )

    organization: Mapped[Organization] = relationship(lazy="joined")

    @classmethod
    def visible_to(cls, organization_id: int):
        """SQL: the offers an organisation's partners see (theirs, and confirmed as theirs)."""
        return sa.and_(cls.organization_id == organization_id, cls.organization_confirmed)

    def belongs_to(self, organization_id: int | None) -> bool:
        """Whether an organisation's partners see this offer (the Python form of visible_to)."""
        return self.organization_id == organization_id and self.organization_confirmed

    __table_args__ = (
        sa.UniqueConstraint("source", "source_id"),
        # The matcher's delta reads what changed since a fit (services/matching/delta.py).
        sa.Index("ix_offers_updated_at", "updated_at"),
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
        # The public page's default order (nearest deadline) over published offers only.
        sa.Index(
            "ix_offers_open_deadline",
            "deadline",
            "id",
            postgresql_where=sa.text("status = 'published'"),
            sqlite_where=sa.text("status = 'published'"),
        ),
        # Searched words (LIKE '%word%') found through trigrams: PostgreSQL's pg_trgm.
        sa.Index(
            "ix_offers_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        sa.Index(
            "ix_offers_documents_text_trgm",
            "documents_text",
            postgresql_using="gin",
            postgresql_ops={"documents_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r}>"


@sa.event.listens_for(Offer, "before_update")
def _keep_derived_columns(_mapper, _connection, offer: Offer) -> None:
    """Refresh the search text when the texts change; stamp the first publication."""
    state = sa.inspect(offer)
    if state.attrs.title.history.has_changes() or state.attrs.description.history.has_changes():
        offer.search_text = search_text_of(offer.title, offer.description)
    if offer.published_at is None and str(offer.status) == OfferStatus.PUBLISHED.value:
        offer.published_at = datetime.now(UTC)
