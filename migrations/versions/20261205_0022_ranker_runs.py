"""ranker runs: each retrain of the learned ranker on the staff's decisions, adopted or not

Revision ID: 20261205_0022
Revises: 20261204_0021
Create Date: 2026-12-05 01:00:00

Written by hand (see DEVELOPERS.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "20261205_0022"
down_revision = "20261204_0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ranker_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.Enum("weekly", "admin", name="ranker_trigger",
                                     native_enum=False, create_constraint=True, length=6),
                  nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.Enum("queued", "running", "done", "failed",
                                   name="ranker_run_state", native_enum=False,
                                   create_constraint=True, length=7),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n_train_accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_train_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_heldout_accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_heldout_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_heldout_projects", sa.Integer(), server_default="0", nullable=False),
        sa.Column("current_score", sa.Float(), nullable=True),
        sa.Column("candidate_score", sa.Float(), nullable=True),
        sa.Column("slices", sa.JSON(), nullable=False),
        sa.Column("importance", sa.JSON(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("matcher_version", sa.String(length=64), nullable=True),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("model", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "n_train_accepted >= 0 AND n_train_rejected >= 0 AND n_heldout_accepted >= 0"
            " AND n_heldout_rejected >= 0 AND n_heldout_projects >= 0",
            name=op.f("ck_ranker_runs_counts_positive"),
        ),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_ranker_runs_requested_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranker_runs")),
    )
    with op.batch_alter_table("ranker_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranker_runs_created_at"), ["created_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_ranker_runs_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ranker_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranker_runs_state"))
        batch_op.drop_index(batch_op.f("ix_ranker_runs_created_at"))
    op.drop_table("ranker_runs")
