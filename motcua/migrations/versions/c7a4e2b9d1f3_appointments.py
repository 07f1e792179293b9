"""appointments

A field's bookable slots are booked as `appointments` (motcua.booking): the booked name (cleared
after `personal_data_days`), the phone as an HMAC and its mask, the 6-character code typed at the
kiosk, and once checked in its ticket and how punctual the citizen was. Tickets gain
`appointment_id` and `appointment_from`, the moment the appointment class opens for them.

Revision ID: c7a4e2b9d1f3
Revises: a3c5e9f1d2b7
Create Date: 2026-12-06 11:30:00
"""
import sqlalchemy as sa
from alembic import op

import motcua.models

revision = 'c7a4e2b9d1f3'
down_revision = 'a3c5e9f1d2b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appointments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=8), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('start', motcua.models.UTCDateTime(), nullable=False),
        sa.Column('end', motcua.models.UTCDateTime(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('phone_ref', sa.String(length=64), nullable=True),
        sa.Column('phone_mask', sa.String(length=16), nullable=True),
        sa.Column('status', sa.Enum('booked', 'checked_in', 'cancelled', 'no_show', name='appointmentstatus',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('booked_at', motcua.models.UTCDateTime(), nullable=False),
        sa.Column('cancelled_at', motcua.models.UTCDateTime(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('checked_in_at', motcua.models.UTCDateTime(), nullable=True),
        sa.Column('arrival', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_appointments_office_id_offices')),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_appointments_service_id_services')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_appointments_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
        sa.UniqueConstraint('office_id', 'day', 'code', name=op.f('uq_appointments_office_id')),
        sa.UniqueConstraint('public_id', name=op.f('uq_appointments_public_id')),
    )
    op.create_index('ix_appointments_slot', 'appointments', ['service_id', 'start'], unique=False)
    op.create_index('ix_appointments_phone', 'appointments', ['office_id', 'day', 'phone_ref'], unique=False)
    # Plain ALTERs: recreating `tickets` on SQLite would drop the waiting-count triggers.
    op.add_column('tickets', sa.Column('appointment_id', sa.Integer(), nullable=True))
    op.add_column('tickets', sa.Column('appointment_from', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('appointment_from')
        batch_op.drop_column('appointment_id')
    op.drop_index('ix_appointments_phone', table_name='appointments')
    op.drop_index('ix_appointments_slot', table_name='appointments')
    op.drop_table('appointments')
