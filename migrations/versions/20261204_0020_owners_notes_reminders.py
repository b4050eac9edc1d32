"""owners, notes and reminders: an owner on projects, matches and alliances; notes threads and
the emails their mentions send; deadline reminders; each person's calendar link key

Revision ID: 20261204_0020
Revises: 0017a
Create Date: 2026-12-04 22:00:00

Written by hand (see DEVELOPERS.md): a separate head that the lead merges.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_0020"
down_revision = "0017b"
branch_labels = None
depends_on = None

OWNED = ("projects", "matches", "alliances")


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


def _delivery_columns() -> list[sa.Column]:
    return [
        sa.Column("period", sa.String(length=20), nullable=False),
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
    ]


def upgrade() -> None:
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_owner_id"), ["owner_id"], unique=False)
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_owner_id_users"), "users",
                                        ["owner_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_key", sa.String(length=64), nullable=True))

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", _enum("note_subject", "project", "match", "alliance"),
                  nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_notes_author_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index("ix_notes_subject", ["subject_type", "subject_id", "id"],
                              unique=False)

    op.create_table(
        "note_mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        *_delivery_columns(),
        *_timestamps(),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0",
                           name=op.f("ck_note_mentions_counts_positive")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_note_mentions_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"],
                                name=op.f("fk_note_mentions_note_id_notes"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_mentions")),
        sa.UniqueConstraint("user_id", "period", name=op.f("uq_note_mentions_user_id")),
    )
    with op.batch_alter_table("note_mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_mentions_note_id"), ["note_id"], unique=False)

    op.create_table(
        "deadline_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        *_delivery_columns(),
        *_timestamps(),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0",
                           name=op.f("ck_deadline_reminders_counts_positive")),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"],
                                name=op.f("fk_deadline_reminders_match_id_matches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_reminders")),
        sa.UniqueConstraint("match_id", "period", name=op.f("uq_deadline_reminders_match_id")),
    )
    with op.batch_alter_table("deadline_reminders", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_reminders_period_status", ["period", "status"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline_reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_reminders_period_status")
    op.drop_table("deadline_reminders")
    with op.batch_alter_table("note_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_mentions_note_id"))
    op.drop_table("note_mentions")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_subject")
    op.drop_table("notes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("calendar_key")
    for table in reversed(OWNED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_owner_id_users"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_owner_id"))
            batch_op.drop_column("owner_id")
