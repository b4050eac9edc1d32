"""public opportunities and saved searches: offers' private-contact flag, first publication
and search text; saved searches and the emails sent for them

Revision ID: 0017a
Revises: 0007
Create Date: 2026-12-04 20:00:00

Written by hand (see DEVELOPERS.md): a separate head that the lead merges.
`offers.search_text` is the title and description as search compares them
(models.offers.search_text_of); existing rows get it here. `published_at` of offers already
published is taken as their creation time (the nearest known moment).
"""

import sqlalchemy as sa
from alembic import op

from models.offers import search_text_of

revision = "0017a"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 500


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


def _fill_offers() -> None:
    conn = op.get_bind()
    offers = sa.table(
        "offers",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("search_text", sa.Text),
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    conn.execute(
        offers.update()
        .where(offers.c.status.in_(["published", "closed"]))
        .values(published_at=offers.c.created_at)
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(offers.c.id, offers.c.title, offers.c.description)
            .where(offers.c.id > last)
            .order_by(offers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            conn.execute(
                offers.update()
                .where(offers.c.id == row.id)
                .values(search_text=search_text_of(row.title, row.description))
            )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_private", sa.Boolean(),
                                      server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="",
                                      nullable=False))
        batch_op.create_index(batch_op.f("ix_offers_published_at"), ["published_at"],
                              unique=False)
        batch_op.create_index("ix_offers_open_deadline", ["deadline", "id"], unique=False,
                              postgresql_where=sa.text("status = 'published'"),
                              sqlite_where=sa.text("status = 'published'"))
    _fill_offers()
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL and is a trusted extension (PG 13+): a database owner
        # may create it. It lets LIKE '%word%' use the index below instead of reading every row.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_offers_search_text_trgm", "offers", ["search_text"], unique=False,
                        postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"})

    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", _enum("search_scope", "opportunities", "queue"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", _enum("search_language", "es", "en"), nullable=False),
        sa.Column("status", _enum("search_status", "saved", "pending", "subscribed",
                                  "unsubscribed"), nullable=False),
        sa.Column("frequency", _enum("search_frequency", "immediate", "daily", "weekly"),
                  nullable=True),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_period", sa.String(length=20), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL",
                           name=op.f("ck_saved_searches_has_recipient")),
        sa.CheckConstraint(
            "status NOT IN ('pending', 'subscribed') OR "
            "(frequency IS NOT NULL AND covered_until IS NOT NULL)",
            name=op.f("ck_saved_searches_subscribed_has_frequency"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_saved_searches_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_searches_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_saved_searches_email"), ["email"], unique=False)
        batch_op.create_index("ix_saved_searches_status_frequency", ["status", "frequency"],
                              unique=False)

    op.create_table(
        "saved_search_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        *_delivery_columns(),
        *_timestamps(),
        sa.CheckConstraint("attempts >= 0 AND match_count >= 0",
                           name=op.f("ck_saved_search_sends_counts_positive")),
        sa.ForeignKeyConstraint(["saved_search_id"], ["saved_searches.id"],
                                name=op.f("fk_saved_search_sends_saved_search_id_saved_searches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search_sends")),
        sa.UniqueConstraint("saved_search_id", "period",
                            name=op.f("uq_saved_search_sends_saved_search_id")),
    )
    with op.batch_alter_table("saved_search_sends", schema=None) as batch_op:
        batch_op.create_index("ix_saved_search_sends_period_status", ["period", "status"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_search_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_search_sends_period_status")
    op.drop_table("saved_search_sends")
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_searches_status_frequency")
        batch_op.drop_index(batch_op.f("ix_saved_searches_email"))
        batch_op.drop_index(batch_op.f("ix_saved_searches_user_id"))
    op.drop_table("saved_searches")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_offers_search_text_trgm", table_name="offers")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_open_deadline")
        batch_op.drop_index(batch_op.f("ix_offers_published_at"))
        batch_op.drop_column("search_text")
        batch_op.drop_column("published_at")
        batch_op.drop_column("contact_private")
