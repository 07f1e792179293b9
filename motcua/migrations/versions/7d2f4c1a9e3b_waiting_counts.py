"""waiting counts

`waiting_counts` holds each field's waiting tickets per business day (and how many are
priority tickets), kept by triggers on `tickets` so that no way of writing a ticket can let it
drift: issuing, calling, transfers, cancelling, the day end, a manager's SQL. Filled from the
tickets already waiting.

Revision ID: 7d2f4c1a9e3b
Revises: cecb06c0b819
Create Date: 2026-12-06 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '7d2f4c1a9e3b'
down_revision = 'cecb06c0b819'
branch_labels = None
depends_on = None

# A ticket counts where it waits: (service_id, business_day). Moving between fields, days or
# priority, or in or out of 'waiting', takes it off its old row and adds it to its new one.
_ADD = """INSERT INTO waiting_counts (service_id, business_day, waiting, priority)
    SELECT NEW.service_id, NEW.business_day, 1, CASE WHEN NEW.priority_group_id IS NULL THEN 0 ELSE 1 END
    WHERE NEW.status = 'waiting'
    ON CONFLICT (service_id, business_day) DO UPDATE
    SET waiting = waiting_counts.waiting + 1, priority = waiting_counts.priority + excluded.priority"""
_REMOVE = """UPDATE waiting_counts
    SET waiting = waiting - 1, priority = priority - CASE WHEN OLD.priority_group_id IS NULL THEN 0 ELSE 1 END
    WHERE OLD.status = 'waiting' AND service_id = OLD.service_id AND business_day = OLD.business_day"""
_COLUMNS = "status, service_id, business_day, priority_group_id"

SQLITE = [
    f"CREATE TRIGGER tickets_waiting_insert AFTER INSERT ON tickets WHEN NEW.status = 'waiting' BEGIN {_ADD}; END",
    f"CREATE TRIGGER tickets_waiting_update AFTER UPDATE OF {_COLUMNS} ON tickets "
    f"WHEN OLD.status = 'waiting' OR NEW.status = 'waiting' BEGIN {_REMOVE}; {_ADD}; END",
    f"CREATE TRIGGER tickets_waiting_delete AFTER DELETE ON tickets WHEN OLD.status = 'waiting' BEGIN {_REMOVE}; END",
]
POSTGRESQL = [
    f"""CREATE FUNCTION tickets_waiting_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN {_REMOVE}; END IF;
        IF TG_OP <> 'DELETE' THEN {_ADD}; END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tickets_waiting_insert AFTER INSERT ON tickets FOR EACH ROW WHEN (NEW.status = 'waiting') "
    "EXECUTE FUNCTION tickets_waiting_count()",
    f"CREATE TRIGGER tickets_waiting_update AFTER UPDATE OF {_COLUMNS} ON tickets FOR EACH ROW "
    "WHEN (OLD.status = 'waiting' OR NEW.status = 'waiting') EXECUTE FUNCTION tickets_waiting_count()",
    "CREATE TRIGGER tickets_waiting_delete AFTER DELETE ON tickets FOR EACH ROW WHEN (OLD.status = 'waiting') "
    "EXECUTE FUNCTION tickets_waiting_count()",
]


def upgrade() -> None:
    op.create_table('waiting_counts',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_waiting_counts_service_id_services')),
    sa.PrimaryKeyConstraint('service_id', 'business_day', name=op.f('pk_waiting_counts'))
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    op.execute("""INSERT INTO waiting_counts (service_id, business_day, waiting, priority)
        SELECT service_id, business_day, COUNT(*), SUM(CASE WHEN priority_group_id IS NULL THEN 0 ELSE 1 END)
        FROM tickets WHERE status = 'waiting' GROUP BY service_id, business_day""")


def downgrade() -> None:
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER tickets_waiting_{name}" + (" ON tickets" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION tickets_waiting_count()")
    op.drop_table('waiting_counts')
