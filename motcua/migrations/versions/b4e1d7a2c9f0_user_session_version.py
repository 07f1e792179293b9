"""user session version

`users.session_version`: a browser session remembers the value it signed in under and is
refused once the user's value moved on (sign-out, password, role, office or counter change,
deactivation), so a copied session cookie stops working when the session should end.

Revision ID: b4e1d7a2c9f0
Revises: 7d2f4c1a9e3b
Create Date: 2026-12-06 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b4e1d7a2c9f0'
down_revision = '7d2f4c1a9e3b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of users would have to drop
    # the table that tokens, tickets and logs point at.
    op.drop_column('users', 'session_version')
