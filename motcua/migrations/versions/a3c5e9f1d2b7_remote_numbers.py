"""remote numbers

Tickets say where they came from (`source`: kiosk, remote; later appointment). A remote number
may carry the citizen's phone as `phone_ref` (an HMAC with the instance secret, never the number)
and its mask `phone_mask` ("09xx xxx 123"); with the office's `remote_check_in` it waits
`awaiting_check_in` (counters skip it) until the kiosk checks it in by `check_in_code`,
and `check_in_due_at` is when it expires once counters have passed it.

Revision ID: a3c5e9f1d2b7
Revises: e76c03d719fb
Create Date: 2026-12-06 09:20:00
"""
import sqlalchemy as sa
from alembic import op

import motcua.models

revision = 'a3c5e9f1d2b7'
down_revision = 'e76c03d719fb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs: recreating `tickets` on SQLite would drop the waiting-count triggers.
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='kiosk', nullable=False))
        batch_op.add_column(sa.Column('phone_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_mask', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('check_in_code', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('awaiting_check_in', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('checked_in_at', motcua.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('check_in_due_at', motcua.models.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_tickets_phone', ['office_id', 'business_day', 'phone_ref'], unique=False)
        batch_op.create_index('ix_tickets_check_in', ['office_id', 'business_day', 'check_in_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_tickets_check_in')
        batch_op.drop_index('ix_tickets_phone')
        for name in ('check_in_due_at', 'checked_in_at', 'awaiting_check_in', 'check_in_code', 'phone_mask', 'phone_ref', 'source'):
            batch_op.drop_column(name)
