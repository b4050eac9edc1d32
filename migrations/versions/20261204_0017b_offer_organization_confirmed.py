"""Offers record whether their organisation is confirmed (a public submission naming an
existing organisation is not, until staff publish it).

Revision ID: 0017b
Revises: 0017a
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0017b"
down_revision = "0017a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.add_column(
            sa.Column(
                "organization_confirmed", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("organization_confirmed")
