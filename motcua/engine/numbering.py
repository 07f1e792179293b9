"""Gap-free ticket numbers: one row per (series, business day), bumped in the ticket's own
transaction with INSERT … ON CONFLICT DO UPDATE … RETURNING. A rolled-back issue rolls the
bump back too, so numbers never skip; the row lock makes concurrent issuers queue, so numbers
never repeat (MAX()+1 and database sequences give neither guarantee)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Insert, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from motcua.models import NumberCounter, Service
from motcua.prepared import Prepared


def next_number(session: Session, service: Service, day: date) -> int:
    conn = session.connection()
    return _BUMP[conn.dialect.name].scalar(conn, {"service_id": service.id, "day": day, "start": service.start_number})


def _bump(insert) -> Insert:
    counters = NumberCounter.__table__
    return (
        insert(counters)
        .values(service_id=bindparam("service_id"), business_day=bindparam("day"), last_number=bindparam("start"))
        .on_conflict_do_update(index_elements=[counters.c.service_id, counters.c.business_day],
                               set_={"last_number": counters.c.last_number + 1})
        .returning(counters.c.last_number)
    )


# One statement per dialect, built once: this runs for every ticket.
_BUMP: dict[str, Prepared] = {"postgresql": Prepared(_bump(postgresql.insert)), "sqlite": Prepared(_bump(sqlite.insert))}
