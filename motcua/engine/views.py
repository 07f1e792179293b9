"""Plain-dict views of queue state, shared by the API, the snapshot and change payloads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import EllipsisType

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, object_session

from motcua.booking.model import Appointment
from motcua.engine import clock, queue_order
from motcua.engine.availability import issue_blocker
from motcua.engine.estimates import Eta, estimate
from motcua.models import Counter, Office, Service, Ticket, TicketEvent, TicketStatus, User, WaitingCount
from motcua.prepared import Prepared


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def ticket_view(t: Ticket) -> dict:
    """A ticket as displays, counters and the change stream show it: never its public id, which
    lets whoever holds it follow and cancel the ticket (see holder_ticket_view)."""
    leg = t.leg
    group = t.priority_group
    return ticket_dict(t.id, t.code, t.number, t.service, group.code if group else None, t.status, t.issued_at,
                       leg.called_at, leg.started_at, t.counter.number if t.counter else None, leg.recalls,
                       appointment_mark(object_session(t), t.appointment_id))


def booking_of(session: Session | None, appointment_id: int | None) -> Appointment | None:
    if appointment_id is None or session is None:
        return None
    return session.get(Appointment, appointment_id)


def appointment_mark(session: Session | None, appointment_id: int | None) -> dict | None:
    """An appointment ticket's booked slot, as every screen may show it (never the booked name)."""
    a = booking_of(session, appointment_id)
    return {"start": iso(a.start), "end": iso(a.end)} if a else None


def holder_ticket_view(t: Ticket) -> dict:
    """ticket_view with the public id, for those who already hold the ticket or must name it: the
    citizen's status page, the kiosk that issued it, the rating pad of the counter that served it."""
    view = {**ticket_view(t), "public_id": t.public_id, "source": t.source}
    if view["appointment"] is not None:
        view["appointment"] = {**view["appointment"], "code": booking_of(object_session(t), t.appointment_id).code}
    if t.source == "remote":  # the holder's own: the phone's mask, and the code the kiosk checks in
        view.update(phone_mask=t.phone_mask, awaiting_check_in=t.awaiting_check_in,
                    check_in_code=t.check_in_code if t.awaiting_check_in else None, check_in_due_at=iso(t.check_in_due_at))
    return view


def new_ticket_view(ticket_id: int, code: str, number: int, service, group, issued_at: datetime, appointment: dict | None = None) -> dict:
    """ticket_view of a ticket just issued, from the rows the issuer already holds."""
    return ticket_dict(ticket_id, code, number, service, group.code if group else None, TicketStatus.waiting,
                       issued_at.astimezone(UTC), None, None, None, 0, appointment)  # UTC, as the database gives it back


def ticket_dict(ticket_id: int, code: str, number: int, service, priority: str | None, status: TicketStatus,
                issued_at: datetime, called_at: datetime | None, started_at: datetime | None, counter: int | None,
                recalls: int, appointment: dict | None = None) -> dict:
    """ticket_view from its parts (`service` has code and name), for callers holding rows, not objects."""
    return {
        "id": ticket_id,
        "code": code,
        "number": number,
        "service": service.code,
        "service_name": service.name,
        "priority": priority,
        "status": status.value,
        "issued_at": iso(issued_at),
        "called_at": iso(called_at),
        "started_at": iso(started_at),
        "counter": counter,
        "recalls": recalls,
        "appointment": appointment,
    }


def counter_view(c: Counter) -> dict:
    t = c.current_ticket
    return counter_dict(c, c.clerk, [cs.service.code for cs in c.services], ticket_view(t) if t else None)


def counter_dict(c: Counter, clerk: User | None, services: list[str], ticket: dict | None) -> dict:
    """counter_view from its parts, for actions that already hold the fields' codes and the ticket's view."""
    return {
        "number": c.number,
        "name": c.label,
        "status": c.status.value,
        "pause_reason": c.pause_reason,
        "clerk": (clerk.full_name or clerk.username) if clerk else None,
        "services": services,
        "ticket": ticket,
    }


def waiting_count(session: Session, service_id: int, day: date) -> int:
    return WAITING.scalar(session.connection(), {"service_id": service_id, "day": day})


# A field's waiting tickets, kept by triggers in waiting_counts (one row per field and day).
_counts = WaitingCount.__table__


def _kept(column):
    row = (_counts.c.service_id == bindparam("service_id"), _counts.c.business_day == bindparam("day"))
    return func.coalesce(select(column).where(*row).scalar_subquery(), 0)


WAITING = Prepared(select(_kept(_counts.c.waiting)))


def ahead_of(session: Session, t: Ticket, now: datetime | None = None) -> int:
    """Waiting tickets of its field called before this one, by the queue order at `now`."""
    tickets = Ticket.__table__
    return session.scalar(
        select(func.count()).where(
            tickets.c.office_id == t.office_id,
            tickets.c.service_id == t.service_id,
            tickets.c.business_day == t.business_day,
            tickets.c.status == TicketStatus.waiting,
            queue_order.ahead(tickets, t, (now or clock.now()).timestamp()),
        )
    ) or 0


def service_view(session: Session, office: Office, s: Service, now: datetime, *, waiting: int | None = None,
                 est: Eta | None = None, last_number: int | None | EllipsisType = ...) -> dict:
    """A field as the kiosk and displays show it: waiting, estimate for a new ticket, open or why not.
    Callers that already counted the waiting tickets, estimated a newcomer's wait or drew today's
    last number pass them in."""
    if est is None:
        e = estimate(session, office, s.id, now)
        est, waiting = e.eta, e.waiting if waiting is None else waiting
    elif waiting is None:
        waiting = waiting_count(session, s.id, clock.business_day(now, office.timezone))
    blocker = issue_blocker(session, office, s, now, last_number=last_number)
    return {
        "code": s.code,
        "name": s.name,
        "name_en": s.name_en,
        "prefix": s.prefix,
        "waiting": waiting,
        "eta_minutes": est.as_list(),
        "eta_text": est.text(),
        "eta_text_en": est.text_en(),
        "open": blocker is None,
        "closed_reason": None if blocker is None else {"code": blocker[0], "message": blocker[1], "message_en": blocker[2]},
    }


def call_view(e: TicketEvent, code: str, counter_number: int | None) -> dict:
    """A call or recall as displays announce it; `id` lets a display speak each call once."""
    return call_dict(e.id, e.kind, code, counter_number, e.at)


def call_dict(event_id: int, kind: str, code: str, counter_number: int | None, at: datetime) -> dict:
    """call_view from the logged event's id, kind and time."""
    return {"id": event_id, "kind": kind, "code": code, "counter": counter_number, "at": iso(at)}
