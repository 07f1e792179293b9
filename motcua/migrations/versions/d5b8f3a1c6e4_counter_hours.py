"""counter hours

A counter's planned hours per weekday (`hours`, JSON; NULL: the office's working hours), which
the wait estimate uses: a counter planned to leave early or to open later today.

Revision ID: d5b8f3a1c6e4
Revises: c7a4e2b9d1f3
Create Date: 2026-12-06 12:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd5b8f3a1c6e4'
down_revision = 'c7a4e2b9d1f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('counters', sa.Column('hours', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('counters', 'hours')  # in place: a batch rebuild of counters breaks the tickets' foreign key
