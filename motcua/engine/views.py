"""Plain-dict views of queue state, shared by the API, the snapshot and change payloads."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.estimates import Eta, Throughput, eta, throughput
from motcua.models import Counter, Office, Service, Ticket, TicketEvent, TicketStatus


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def ticket_view(t: Ticket) -> dict:
    """A ticket as displays, counters and the change stream show it: never its public id, which
    lets whoever holds it follow and cancel the ticket (see holder_ticket_view)."""
    leg = t.leg
    return _ticket_dict(t.id, t.code, t.number, t.service, t.priority_group, t.status, t.issued_at,
                        leg.called_at, leg.started_at, t.counter.number if t.counter else None, leg.recalls)


def holder_ticket_view(t: Ticket) -> dict:
    """ticket_view with the public id, for those who already hold the ticket or must name it: the
    citizen's status page, the kiosk that issued it, the rating pad of the counter that served it."""
    return {**ticket_view(t), "public_id": t.public_id}


def new_ticket_view(ticket_id: int, code: str, number: int, service, group, issued_at: datetime) -> dict:  # noqa: ANN001
    """ticket_view of a ticket just issued, from the rows the issuer already holds."""
    return _ticket_dict(ticket_id, code, number, service, group, TicketStatus.waiting,
                        issued_at.astimezone(timezone.utc), None, None, None, 0)  # UTC, as the database gives it back


def _ticket_dict(ticket_id: int, code: str, number: int, service, group, status: TicketStatus,  # noqa: ANN001, PLR0913
                 issued_at: datetime, called_at: datetime | None, started_at: datetime | None, counter: int | None,
                 recalls: int) -> dict:
    return {
        "id": ticket_id,
        "code": code,
        "number": number,
        "service": service.code,
        "service_name": service.name,
        "priority": group.code if group else None,
        "status": status.value,
        "issued_at": iso(issued_at),
        "called_at": iso(called_at),
        "started_at": iso(started_at),
        "counter": counter,
        "recalls": recalls,
    }


def counter_view(c: Counter) -> dict:
    t = c.current_ticket
    return {
        "number": c.number,
        "name": c.label,
        "status": c.status.value,
        "pause_reason": c.pause_reason,
        "clerk": (c.clerk.full_name or c.clerk.username) if c.clerk else None,
        "services": [cs.service.code for cs in c.services],
        "ticket": ticket_view(t) if t else None,
    }


def waiting_count(session: Session, office_id: int, service_id: int, day: date) -> int:
    # office_id leads ix_tickets_queue: every query of a day's queue names it, or it scans all tickets.
    return session.scalar(
        select(func.count()).where(
            Ticket.office_id == office_id, Ticket.service_id == service_id, Ticket.business_day == day,
            Ticket.status == TicketStatus.waiting
        )
    ) or 0


def ahead_of(session: Session, t: Ticket) -> int:
    """Waiting tickets called before this one: same class earlier, and every priority ticket
    when this one is ordinary (the ratio lets some ordinary ones through, so this is an upper bound)."""
    earlier = Ticket.queue_key < t.queue_key
    if t.priority_group_id is None:
        cond = or_(Ticket.priority_group_id.is_not(None), earlier)
    else:
        cond = and_(Ticket.priority_group_id.is_not(None), earlier)
    return session.scalar(
        select(func.count()).where(
            Ticket.office_id == t.office_id,
            Ticket.service_id == t.service_id,
            Ticket.business_day == t.business_day,
            Ticket.status == TicketStatus.waiting,
            Ticket.id != t.id,
            cond,
        )
    ) or 0


def service_view(session: Session, office: Office, s: Service, now: datetime, *, waiting: int | None = None, tp: Throughput | None = None) -> dict:
    """A field as the kiosk and displays show it: waiting, estimate for a new ticket, open or why not.
    Callers that already counted the waiting tickets or measured throughput pass them in."""
    from motcua.engine.tickets import issue_blocker  # the issuing rules live with issuing

    if waiting is None:
        waiting = waiting_count(session, office.id, s.id, clock.business_day(now, office.timezone))
    est: Eta = eta(tp or throughput(session, s, now), waiting)
    blocker = issue_blocker(session, office, s, now)
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
    return {"id": e.id, "kind": e.kind, "code": code, "counter": counter_number, "at": iso(e.at)}
