"""push subscriptions

What a citizen's browser gave when they asked the ticket's status page to notify them
(motcua.notify.subscriptions): one row per ticket and push endpoint, deleted with the ticket's end.

Revision ID: d8f3b6a1c4e2
Revises: c8f2a6d4e1b9
Create Date: 2026-12-06 11:40:00
"""
import sqlalchemy as sa
from alembic import op

import motcua.models

revision = 'd8f3b6a1c4e2'
down_revision = 'c8f2a6d4e1b9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=2048), nullable=False),
    sa.Column('p256dh', sa.String(length=128), nullable=False),
    sa.Column('auth', sa.String(length=64), nullable=False),
    sa.Column('created_at', motcua.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_push_subscriptions_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('ticket_id', 'endpoint', name=op.f('uq_push_subscriptions_ticket_id'))
    )


def downgrade() -> None:
    op.drop_table('push_subscriptions')
