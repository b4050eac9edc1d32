"""call documents: files attached to offers and projects, with their extracted text; each
offer's nearest offers ("more like this"); offers' public documents' text for search

Revision ID: 20261204_0021
Revises: 20261204_0019
Create Date: 2026-12-04 22:00:00

Written by hand (see DEVELOPERS.md): a separate head that the lead merges. The bytes live on
disk under their SHA-256 (services.documents.storage); this table says whose they are, what
they are, whether anyone may download them, and the text extracted from them.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_0021"
down_revision = "20261204_0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("extraction_state",
                  sa.Enum("pending", "done", "failed", name="extraction_state",
                          native_enum=False, create_constraint=True, length=7),
                  server_default="pending", nullable=False),
        sa.Column("extraction_error", sa.Text(), nullable=True),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.CheckConstraint("(offer_id IS NULL) <> (project_id IS NULL)",
                           name=op.f("ck_documents_one_owner")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_documents_size_positive")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"],
                                name=op.f("fk_documents_offer_id_offers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_documents_project_id_projects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_project_id"), ["project_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_documents_sha256"), ["sha256"], unique=False)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("documents_text", sa.Text(), server_default="",
                                      nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm exists since 0017a (the offers' search text). One more column of offers, not
        # a join: `search_text LIKE … OR documents_text LIKE …` is a BitmapOr of two indexes.
        op.create_index("ix_offers_documents_text_trgm", "offers", ["documents_text"],
                        unique=False, postgresql_using="gin",
                        postgresql_ops={"documents_text": "gin_trgm_ops"})


    op.create_table(
        "offer_neighbours",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("neighbour_ids", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("matcher_version", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"],
                                name=op.f("fk_offer_neighbours_offer_id_offers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer_neighbours")),
    )


def downgrade() -> None:
    op.drop_table("offer_neighbours")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_offers_documents_text_trgm", table_name="offers")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_column("documents_text")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_sha256"))
        batch_op.drop_index(batch_op.f("ix_documents_project_id"))
        batch_op.drop_index(batch_op.f("ix_documents_offer_id"))
    op.drop_table("documents")
