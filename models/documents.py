"""Call documents attached to an offer or a project, stored on disk by content hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps, enum_column
from models.enums import ExtractionState


class Document(Timestamps, Base):
    """One attached file: who it belongs to, what it is, and the text extracted from it.

    The bytes live in the document directory under their SHA-256 (services.documents.storage):
    the same file attached twice is stored once.
    """

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    # Public documents of a published offer are downloadable from its opportunity page and
    # searched there; internal ones are for staff only.
    public: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # The texts can be megabytes: loaded only when read (lists of documents never need them).
    text: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    # The extracted text as search compares it (models.offers.search_key); the public ones of
    # an offer are joined into Offer.documents_text, which the public search reads.
    search_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="", deferred=True)
    extraction_state: Mapped[ExtractionState] = mapped_column(
        enum_column(ExtractionState, "extraction_state"),
        default=ExtractionState.PENDING,
        server_default=ExtractionState.PENDING.value,
    )
    extraction_error: Mapped[str | None] = mapped_column(sa.Text)
    extracted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("(offer_id IS NULL) <> (project_id IS NULL)", name="one_owner"),
        sa.CheckConstraint("size >= 0", name="size_positive"),
    )

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.filename!r}>"
