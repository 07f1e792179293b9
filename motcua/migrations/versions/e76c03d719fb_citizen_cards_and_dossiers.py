"""citizen cards and dossiers

Tickets issued from a citizen's ID card carry `citizen_ref` (an HMAC of the number with the
instance secret, never the number; the day end clears it after `personal_data_days`) and an age
band for reports; `ix_tickets_citizen` answers "the same card the same day". `dossiers` holds the
dossier codes a ticket came for (attached at the counter, or carried from a receipt's QR to the
results desk), with the procedure area and when the result was returned.

Revision ID: e76c03d719fb
Revises: b4e1d7a2c9f0
Create Date: 2026-12-06 08:12:57.515900
"""
from alembic import op
import sqlalchemy as sa
import motcua.models


revision = 'e76c03d719fb'
down_revision = 'b4e1d7a2c9f0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('leg_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('attached_at', motcua.models.UTCDateTime(), nullable=False),
    sa.Column('attached_by_id', sa.Integer(), nullable=True),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('returned_at', motcua.models.UTCDateTime(), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attached_by_id'], ['users.id'], name=op.f('fk_dossiers_attached_by_id_users')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_dossiers_counter_id_counters')),
    sa.ForeignKeyConstraint(['leg_id'], ['ticket_legs.id'], name=op.f('fk_dossiers_leg_id_ticket_legs')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_dossiers_office_id_offices')),
    sa.ForeignKeyConstraint(['returned_by_id'], ['users.id'], name=op.f('fk_dossiers_returned_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_dossiers_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('ticket_id', 'code', name=op.f('uq_dossiers_ticket_id'))
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('ix_dossiers_office_code', ['office_id', 'code'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_ticket_id'), ['ticket_id'], unique=False)

    # Plain ALTERs: recreating `tickets` on SQLite would drop the waiting-count triggers.
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('citizen_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('age_band', sa.String(length=8), nullable=True))
        batch_op.create_index('ix_tickets_citizen', ['office_id', 'business_day', 'citizen_ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_tickets_citizen')
        batch_op.drop_column('age_band')
        batch_op.drop_column('citizen_ref')

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_ticket_id'))
        batch_op.drop_index('ix_dossiers_office_code')

    op.drop_table('dossiers')
