"""index versions and rebuild chunks: the fitted matcher indexes every worker reads, and the
chunks of a rebuild that are done

Revision ID: 20261204_0018
Revises: 0017a
Create Date: 2026-12-04 22:00:00

Written by hand (see DEVELOPERS.md): a separate head that the lead merges.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_0018"
down_revision = "20261204_0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The matcher's delta reads the offers and projects changed since a fit.
    op.create_index("ix_offers_updated_at", "offers", ["updated_at"], unique=False)
    op.create_index("ix_projects_updated_at", "projects", ["updated_at"], unique=False)
    op.create_table(
        "index_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n_offers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_projects", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state", sa.Enum("fitting", "ready", "pruned", name="index_state",
                                   native_enum=False, create_constraint=True, length=7),
                  nullable=False),
        sa.CheckConstraint("n_offers >= 0 AND n_projects >= 0",
                           name=op.f("ck_index_versions_counts_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_versions")),
    )
    with op.batch_alter_table("index_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_versions_created_at"), ["created_at"],
                              unique=False)
    op.create_table(
        "rebuild_chunks",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("chunk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"],
                                name=op.f("fk_rebuild_chunks_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "chunk", name=op.f("pk_rebuild_chunks")),
    )


def downgrade() -> None:
    op.drop_table("rebuild_chunks")
    with op.batch_alter_table("index_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_versions_created_at"))
    op.drop_table("index_versions")
    op.drop_index("ix_projects_updated_at", table_name="projects")
    op.drop_index("ix_offers_updated_at", table_name="offers")
