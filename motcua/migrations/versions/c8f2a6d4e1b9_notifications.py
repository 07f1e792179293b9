"""notifications

The outbox of messages to citizens (motcua.notify): one row per channel, subject (a ticket or an
appointment), event and key, unique, so the same message is never queued twice. Tickets and
appointments get `phone_sealed`: the phone encrypted while an office's SMS/Zalo gateway may need it.

Revision ID: c8f2a6d4e1b9
Revises: d5b8f3a1c6e4
Create Date: 2026-12-06 11:30:00
"""
import sqlalchemy as sa
from alembic import op

import motcua.models

revision = 'c8f2a6d4e1b9'
down_revision = 'd5b8f3a1c6e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER: recreating `tickets` on SQLite would drop the waiting-count triggers.
    op.add_column('tickets', sa.Column('phone_sealed', sa.String(length=200), nullable=True))
    op.add_column('appointments', sa.Column('phone_sealed', sa.String(length=200), nullable=True))
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=24), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('phone_mask', sa.String(length=16), nullable=True),
        sa.Column('phone_sealed', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', motcua.models.UTCDateTime(), nullable=False),
        sa.Column('lease_until', motcua.models.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', motcua.models.UTCDateTime(), nullable=False),
        sa.Column('sent_at', motcua.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_notifications_office_id_offices')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notifications_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('subject', 'event', 'key', 'channel', name=op.f('uq_notifications_subject')),
    )
    op.create_index('ix_notifications_due', 'notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_notifications_office_created', 'notifications', ['office_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_notifications_ticket_id'), 'notifications', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notifications_ticket_id'), table_name='notifications')
    op.drop_index('ix_notifications_office_created', table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.drop_table('notifications')
    for table in ('appointments', 'tickets'):
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.drop_column('phone_sealed')
