"""The whole visible state of an office at one sequence number: what a display gets on
connect and on every reconnect, and what GET /api/v1/queue returns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.views import call_view, counter_view, iso, service_view
from motcua.models import Counter, Office, Service, Ticket, TicketEvent

RECENT_CALLS = 12


def recent_calls(session: Session, office: Office, now: datetime, limit: int = RECENT_CALLS) -> list[dict]:
    day = clock.business_day(now, office.timezone)
    rows = session.execute(
        select(TicketEvent, Ticket.code, Counter.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .outerjoin(Counter, Counter.id == TicketEvent.counter_id)
        .where(TicketEvent.office_id == office.id, TicketEvent.kind.in_(("called", "recalled")), Ticket.business_day == day)
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    ).all()
    return [call_view(e, code, number) for e, code, number in rows]


def snapshot(session: Session, office: Office, now: datetime | None = None) -> dict:
    now = now or clock.now()
    seq = session.scalar(select(Office.event_seq).where(Office.id == office.id))
    counters = session.scalars(select(Counter).where(Counter.office_id == office.id, Counter.active).order_by(Counter.number)).all()
    services = session.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)).all()
    return {
        "seq": seq,
        "at": iso(now),
        "business_day": clock.business_day(now, office.timezone).isoformat(),
        "office": {"code": office.code, "name": office.name, "timezone": office.timezone},
        "counters": [counter_view(c) for c in counters],
        "services": [service_view(session, office, s, now) for s in services],
        "recent_calls": recent_calls(session, office, now),
    }
