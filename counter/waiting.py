"""Who waits for a counter: the waiting tickets of every field it serves, each field's in the
order the engine calls them (motcua.engine.queue_order), read straight from the models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.booking.book import booked_names
from motcua.booking.model import Appointment
from motcua.engine import clock, dossiers, queue_order
from motcua.engine.views import iso
from motcua.models import Counter, CounterService, Office, PriorityGroup, Service, Ticket, TicketLeg, TicketStatus

# Enough to see the queue ahead on one screen; the count is always exact.
LIST_LIMIT = 40


def waiting_for_counter(session: Session, office: Office, c: Counter, user_id: int | None, now: datetime | None = None) -> dict:
    now = now or clock.now()
    day = clock.business_day(now, office.timezone)
    served = session.execute(
        select(Service, CounterService.weight)
        .join(CounterService, CounterService.service_id == Service.id)
        .where(CounterService.counter_id == c.id)
        .order_by(CounterService.weight.desc(), Service.sort_order, Service.id)
    ).all()
    ids = [s.id for s, _ in served]
    rows = session.execute(
        select(Ticket, TicketLeg.queued_at, TicketLeg.seq, PriorityGroup.code, PriorityGroup.name, PriorityGroup.name_en)
        # The open leg of a waiting ticket is the only one without an outcome.
        .join(TicketLeg, (TicketLeg.ticket_id == Ticket.id) & TicketLeg.outcome.is_(None))
        .outerjoin(PriorityGroup, PriorityGroup.id == Ticket.priority_group_id)
        .where(
            Ticket.office_id == office.id,
            Ticket.business_day == day,
            Ticket.status == TicketStatus.waiting,
            Ticket.service_id.in_(ids),
            queue_order.callable_now(Ticket.__table__),
        )
        .order_by(Ticket.service_id, *queue_order.field_order(Ticket.__table__, now.timestamp()))
    ).all() if ids else []
    per_service: dict[int, list] = {sid: [] for sid in ids}
    # Dossier codes: the results desk sees which result to fetch before the citizen arrives.
    current = c.current_ticket_id
    codes = dossiers.for_tickets(session, [t.id for t, *_ in rows] + ([current] if current else []))
    # The booked name of an appointment: the clerk greets the citizen by it (only here, never on displays).
    current_ticket = session.get(Ticket, current) if current else None
    names = booked_names(session, [t.appointment_id for t, *_ in rows] + ([current_ticket.appointment_id] if current_ticket else []))
    booked_at = _booked_starts(session, [t.appointment_id for t, *_ in rows])
    for t, queued_at, seq, g_code, g_name, g_name_en in rows:
        per_service[t.service_id].append(
            {
                "code": t.code,
                "priority": g_code,
                "priority_name": g_name,
                "priority_name_en": g_name_en,
                "issued_at": iso(t.issued_at),
                "queued_at": iso(queued_at),
                "transferred": seq > 1,
                "dossiers": [d.code for d in codes[t.id]],
                "appointment": t.appointment_id is not None,
                "booked_name": names.get(t.appointment_id),
                "appointment_at": iso(booked_at.get(t.appointment_id)),  # the slot's start: the badge's time
            }
        )
    services = []
    for s, weight in served:
        tickets = per_service[s.id]
        services.append(
            {
                "code": s.code,
                "name": s.name,
                "name_en": s.name_en,
                "weight": weight,
                "waiting": len(tickets),
                "priority": sum(1 for t in tickets if t["priority"]),
                "tickets": tickets[:LIST_LIMIT],
            }
        )
    return {
        "at": iso(now),
        "counter": {
            "number": c.number,
            "name": c.label,
            "status": c.status.value,
            "mine": user_id is not None and c.clerk_id == user_id,
            "held": c.clerk_id is not None and c.status.value != "closed",
        },
        "services": services,
        "total": sum(s["waiting"] for s in services),
        "current_dossiers": [dossiers.dossier_view(d) for d in codes[current]] if current else [],
        "current_booked_name": names.get(current_ticket.appointment_id) if current_ticket else None,
        "current_code": current_ticket.code if current_ticket else None,  # whose name that is (the page may hold a newer call)
    }


def _booked_starts(session: Session, appointment_ids: list[int | None]) -> dict[int, datetime]:
    ids = sorted({i for i in appointment_ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(select(Appointment.id, Appointment.start).where(Appointment.id.in_(ids))).all())
