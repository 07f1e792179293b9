"""report indexes

Indexes the manager room's reports and dashboard read by: ratings by leg (reports join legs to
their rating), calls out of turn per office and date range, recently failed print jobs, and the
audit log per office, newest first.

Revision ID: 51306a2c0be9
Revises: 96bfbe7d991c
Create Date: 2026-11-23 10:15:53.862293
"""
from alembic import op
import sqlalchemy as sa
import motcua.models


revision = '51306a2c0be9'
down_revision = '96bfbe7d991c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_office_at', ['office_id', 'at'], unique=False)

    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_status_updated_at', ['status', 'updated_at'], unique=False)

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_leg_id'), ['leg_id'], unique=False)

    with op.batch_alter_table('ticket_legs', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_legs_out_of_order', ['office_id', 'out_of_order', 'business_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_legs', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_legs_out_of_order')

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ratings_leg_id'))

    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_print_jobs_status_updated_at')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_office_at')
