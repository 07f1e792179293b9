"""day end runs

One row per office and business day whose day end ran (motcua.dayend): the unique
(office_id, business_day) is the claim that lets exactly one process run it.

Revision ID: cecb06c0b819
Revises: 51306a2c0be9
Create Date: 2026-11-23 10:17:38.171858
"""
from alembic import op
import sqlalchemy as sa
import motcua.models


revision = 'cecb06c0b819'
down_revision = '51306a2c0be9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_end_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('ran_at', motcua.models.UTCDateTime(), nullable=False),
    sa.Column('tickets_closed', sa.Integer(), nullable=False),
    sa.Column('counters_closed', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_day_end_runs_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_end_runs')),
    sa.UniqueConstraint('office_id', 'business_day', name=op.f('uq_day_end_runs_office_id'))
    )


def downgrade() -> None:
    op.drop_table('day_end_runs')
