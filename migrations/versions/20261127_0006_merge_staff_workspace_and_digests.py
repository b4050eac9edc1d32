"""merge staff workspace and digests

Revision ID: 0006
Revises: 0003, 0005
Create Date: 2026-11-27 01:22:59.075439
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = ('0003', '0005')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
