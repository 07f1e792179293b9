"""user session version

`users.session_version`: a browser session remembers the value it signed in under and is
refused once the user's value moved on (sign-out, password, role, office or counter change,
deactivation), so a copied session cookie stops working when the session should end.

Revision ID: b4e1d7a2c9f0
Revises: e76c03d719fb
Create Date: 2026-12-06 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b4e1d7a2c9f0'
down_revision = 'e76c03d719fb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
