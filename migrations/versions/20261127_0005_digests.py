"""weekly digests: subscriptions, sends, match score marks

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27 02:00:00

Written by hand (see DEVELOPERS.md): a separate head that the lead merges.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True,
                   length=max(len(v) for v in values))


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("subscription_kind", "staff", "partner"), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("min_score", sa.Float(), server_default="0", nullable=False),
        sa.Column("language", _enum("subscription_language", "es", "en"), nullable=False),
        sa.Column("status", _enum("subscription_status", "active", "paused", "unsubscribed"),
                  nullable=False),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_period", sa.String(length=8), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("min_score >= 0 AND min_score <= 1",
                           name=op.f("ck_digest_subscriptions_min_score_range")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_digest_subscriptions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_digest_subscriptions_user_id")),
    )
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_subscriptions_status"), ["status"],
                              unique=False)

    op.create_table(
        "digest_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("status", _enum("digest_send_status", "pending", "sent", "failed"),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("match_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0",
                           name=op.f("ck_digest_sends_counts_positive")),
        sa.ForeignKeyConstraint(["subscription_id"], ["digest_subscriptions.id"],
                                name=op.f("fk_digest_sends_subscription_id_digest_subscriptions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_sends")),
        sa.UniqueConstraint("subscription_id", "period",
                            name=op.f("uq_digest_sends_subscription_id")),
    )
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.create_index("ix_digest_sends_period_status", ["period", "status"],
                              unique=False)

    op.create_table(
        "digest_match_marks",
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"],
                                name=op.f("fk_digest_match_marks_match_id_matches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("match_id", name=op.f("pk_digest_match_marks")),
    )
    with op.batch_alter_table("digest_match_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_match_marks_raised_at"), ["raised_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_match_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_match_marks_raised_at"))
    op.drop_table("digest_match_marks")
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_sends_period_status")
    op.drop_table("digest_sends")
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_subscriptions_status"))
    op.drop_table("digest_subscriptions")
