"""Gap-free ticket numbers: one row per (series, business day), bumped in the ticket's own
transaction with INSERT … ON CONFLICT DO UPDATE … RETURNING. A rolled-back issue rolls the
bump back too, so numbers never skip; the row lock makes concurrent issuers queue, so numbers
never repeat (MAX()+1 and database sequences give neither guarantee)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from motcua.models import NumberCounter, Service


def next_number(session: Session, service: Service, day: date) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(NumberCounter)
        .values(service_id=service.id, business_day=day, last_number=service.start_number)
        .on_conflict_do_update(
            index_elements=[NumberCounter.service_id, NumberCounter.business_day],
            set_={"last_number": NumberCounter.last_number + 1},
        )
        .returning(NumberCounter.last_number)
    )
    return session.execute(stmt).scalar_one()
