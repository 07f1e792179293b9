"""Issuing and cancelling tickets, and what a citizen sees of their own ticket."""

from __future__ import annotations

import secrets
from datetime import datetime
from types import EllipsisType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.engine import changes, clock
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.estimates import eta, throughput
from motcua.engine.numbering import next_number
from motcua.engine.views import ahead_of, counter_view, iso, priority_waiting, service_view, ticket_view, waiting_count
from motcua.models import (
    OPEN_STATUSES,
    Counter,
    Device,
    NumberCounter,
    Office,
    PrintJob,
    PriorityGroup,
    Service,
    Ticket,
    TicketEvent,
    TicketLeg,
    TicketStatus,
    User,
)


def log_event(
    session: Session,
    t: Ticket,
    kind: str,
    to_status: TicketStatus,
    now: datetime,
    *,
    user: User | None = None,
    device: Device | None = None,
    counter: Counter | None = None,
    reason: str | None = None,
    data: dict | None = None,
    from_status: TicketStatus | None | EllipsisType = ...,
) -> TicketEvent:
    """Append the event and move the ticket: the only way a ticket's status changes."""
    event = TicketEvent(
        office_id=t.office_id,
        ticket_id=t.id,
        kind=kind,
        at=now,
        from_status=_value(t.status if from_status is ... else from_status),
        to_status=to_status.value,
        service_id=t.service_id,
        counter_id=counter.id if counter else None,
        user_id=user.id if user else None,
        device_id=device.id if device else None,
        reason=reason,
        data=data,
    )
    t.status = to_status
    session.add(event)
    session.flush()
    return event


def _value(status: TicketStatus | None) -> str | None:
    return status.value if status is not None else None


def find_service(session: Session, office: Office, code: str) -> Service:
    s = session.scalar(select(Service).where(Service.office_id == office.id, Service.code == code))
    if s is None:
        raise QueueError(
            "unknown_service", f"Không có lĩnh vực '{code}'.", f"There is no field '{code}'.", status=404
        )
    return s


def find_priority_group(session: Session, office: Office, code: str) -> PriorityGroup:
    g = session.scalar(
        select(PriorityGroup).where(PriorityGroup.office_id == office.id, PriorityGroup.code == code, PriorityGroup.active)
    )
    if g is None:
        raise QueueError(
            "unknown_priority", f"Không có nhóm ưu tiên '{code}'.", f"There is no priority group '{code}'.", status=422
        )
    return g


def issue_blocker(session: Session, office: Office, service: Service, now: datetime) -> tuple[str, str, str] | None:
    """Why this field cannot issue a ticket now, or None."""
    if not service.active:
        return ("service_inactive", "Lĩnh vực này tạm ngừng nhận hồ sơ.", "This field is not taking tickets at the moment.")
    reason = clock.closed_reason(office.settings, service.issuing_windows, now, office.timezone)
    if reason:
        return reason
    if service.daily_quota:
        day = clock.business_day(now, office.timezone)
        last = session.scalar(
            select(NumberCounter.last_number).where(NumberCounter.service_id == service.id, NumberCounter.business_day == day)
        )
        if last is not None and last - service.start_number + 1 >= service.daily_quota:
            return ("quota_reached", "Đã hết số thứ tự của lĩnh vực này trong hôm nay.", "Today's tickets for this field have run out.")
    return None


def issue_ticket(
    session: Session,
    office: Office,
    service_code: str,
    *,
    priority: str | None = None,
    idempotency_key: str | None = None,
    device: Device | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Issue a ticket; returns (ticket, created). The same idempotency key returns the first ticket."""
    now = now or clock.now()
    if idempotency_key:
        existing = session.scalar(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing, False
    service = find_service(session, office, service_code)
    group = find_priority_group(session, office, priority) if priority else None
    blocker = issue_blocker(session, office, service, now)
    if blocker:
        raise QueueError(blocker[0], blocker[1], blocker[2], status=409 if blocker[0] == "quota_reached" else 403)

    day = clock.business_day(now, office.timezone)
    number = next_number(session, service, day)
    # The new ticket is last of its class, so those ahead are counted before it exists.
    waiting = waiting_count(session, service.id, day)
    ahead = waiting if group is None else priority_waiting(session, service.id, day)
    tp = throughput(session, service, now)
    est = eta(tp, ahead)
    t = Ticket(
        public_id=secrets.token_urlsafe(16),
        office_id=office.id,
        series_id=service.id,
        service_id=service.id,
        business_day=day,
        number=number,
        code=service.format_number(number),
        priority_group_id=group.id if group else None,
        status=TicketStatus.waiting,
        queue_key=now.timestamp(),
        issued_at=now,
        idempotency_key=idempotency_key,
        device_id=device.id if device else None,
        issued_by_id=user.id if user else None,
        waiting_ahead=ahead,
        eta_low=est.low,
        eta_high=est.high,
    )
    t.service, t.series, t.priority_group = service, service, group
    t.legs = [TicketLeg(office_id=office.id, business_day=day, seq=1, service_id=service.id, priority=group is not None, queued_at=now)]
    session.add(t)
    session.flush()
    log_event(session, t, "issued", TicketStatus.waiting, now, user=user, device=device, data={"priority": priority}, from_status=None)
    if device is not None and device.printer_id is not None:
        # Printing happens after the commit (the spooler); the job row makes it durable.
        job = PrintJob(ticket_id=t.id, printer_id=device.printer_id, backup_printer_id=device.backup_printer_id, created_at=now, updated_at=now)
        session.add(job)
        session.flush()
        t.print_job_id = job.id
    changes.record(session, office.id, "ticket.issued",
                   {"ticket": ticket_view(t), "service": service_view(session, office, service, now, waiting=waiting + 1, tp=tp),
                    "print_job": t.print_job_id, "printer": device.printer_id if t.print_job_id else None})
    return t, True


def find_ticket(session: Session, public_id: str) -> Ticket:
    t = session.scalar(select(Ticket).where(Ticket.public_id == public_id))
    if t is None:
        raise not_found("phiếu", "Ticket", "unknown_ticket")
    return t


def public_status(session: Session, t: Ticket, now: datetime | None = None) -> dict:
    """What the citizen's phone shows: position, who is served now, an estimate."""
    now = now or clock.now()
    office = session.get(Office, t.office_id)
    ahead = ahead_of(session, t) if t.status == TicketStatus.waiting else 0
    est = eta(throughput(session, t.service, now), ahead) if t.status == TicketStatus.waiting else None
    serving = session.scalars(
        select(Ticket.code)
        .join(Counter, Counter.current_ticket_id == Ticket.id)
        .where(Counter.office_id == t.office_id, Ticket.service_id == t.service_id)
        .order_by(Counter.number)
    ).all()
    view = ticket_view(t)
    view.update(
        {
            "office": office.name,
            "service_name_en": t.service.name_en,
            "priority_name": t.priority_group.name if t.priority_group else None,
            "priority_name_en": t.priority_group.name_en if t.priority_group else None,
            "position": ahead + 1 if t.status == TicketStatus.waiting else None,
            "waiting_ahead": ahead,
            "now_serving": serving,
            "eta_minutes": est.as_list() if est else None,
            "eta_text": est.text() if est else None,
            "eta_text_en": est.text_en() if est else None,
            "business_day": t.business_day.isoformat(),
            "updated_at": iso(now),
        }
    )
    return view


def cancel_ticket(session: Session, t: Ticket, *, user: User | None = None, reason: str | None = None, now: datetime | None = None) -> Ticket:
    """Cancel an open ticket (the citizen from the status page, or staff)."""
    now = now or clock.now()
    if t.status not in OPEN_STATUSES:
        raise conflict("ticket_closed", "Phiếu đã kết thúc, không thể hủy.", "The ticket is already closed and cannot be cancelled.")
    counter = t.counter if t.status != TicketStatus.waiting else None
    leg = t.leg
    leg.outcome = "cancelled"
    leg.finished_at = leg.finished_at or now
    log_event(session, t, "cancelled", TicketStatus.cancelled, now, user=user, counter=counter, reason=reason)
    data: dict = {"ticket": ticket_view(t)}
    if counter is not None and counter.current_ticket_id == t.id:
        counter.current_ticket_id = None
        session.flush()
        session.refresh(counter)
        data["counter"] = counter_view(counter)
    office = session.get(Office, t.office_id)
    data["service"] = service_view(session, office, t.service, now)
    changes.record(session, t.office_id, "ticket.cancelled", data)
    return t
