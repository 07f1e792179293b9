"""Issuing and cancelling tickets, and what a citizen sees of their own ticket."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from motcua.devices import mark_seen_and_read_printers
from motcua.engine import clock, queue_order, transitions
from motcua.engine.availability import QUOTA_REACHED, issue_blocker, quota_used_up
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.estimates import Eta, estimate, estimate_waiting
from motcua.engine.numbering import next_number
from motcua.engine.views import ahead_of, counter_view, holder_ticket_view, iso, new_ticket_view, service_view, ticket_view
from motcua.models import OPEN_STATUSES, Counter, Office, PrintJob, PriorityGroup, Service, Ticket, TicketStatus, User
from motcua.prepared import Prepared


def find_service(session: Session, office: Office, code: str) -> Service:
    s = session.scalar(select(Service).where(Service.office_id == office.id, Service.code == code))
    if s is None:
        raise unknown_service(code)
    return s


def unknown_service(code: str) -> QueueError:
    return QueueError("unknown_service", f"Không có lĩnh vực '{code}'.", f"There is no field '{code}'.", status=404)


def unknown_priority(code: str) -> QueueError:
    return QueueError("unknown_priority", f"Không có nhóm ưu tiên '{code}'.", f"There is no priority group '{code}'.", status=422)


class Remote(Protocol):
    """What a remote number adds to issuing (engine.remote.RemoteAsk)."""

    source: str
    phone_ref: str | None
    phone_mask: str | None
    check_in_code: str | None
    phone_sealed: str | None

    def admit(self, session: Session, service: Any, day: date) -> None: ...


class Booked(Protocol):
    """What an appointment's check-in adds to issuing (motcua.booking.arrival.Arrival)."""

    appointment_id: int
    opens_at: float | None  # when its appointment class opens (None: late, a walk-in)
    mark: dict  # the booked slot as ticket views show it


@dataclass(frozen=True)
class Issued:
    """What issuing answers with: the ticket as the API shows it, and what the kiosk needs next."""

    id: int
    public_id: str
    created: bool  # False: an idempotent replay of an earlier request
    view: dict
    waiting_ahead: int
    eta: Eta
    print_job_id: int | None


# Issuing is the hottest write (a morning queue of kiosks), so it runs as a handful of prepared
# statements on the session's connection: the ORM's unit of work, and then Core's per-statement
# machinery, cost more than the database (motcua.prepared).
_tickets, _jobs = Ticket.__table__, PrintJob.__table__
_services, _offices, _groups = Service.__table__, Office.__table__, PriorityGroup.__table__
_SERVICE = Prepared(
    select(_services, _offices.c.timezone.label("office_timezone"), _offices.c.settings.label("office_settings"))
    .join(_offices, _offices.c.id == _services.c.office_id)
    .where(_services.c.office_id == bindparam("office_id"), _services.c.code == bindparam("code")))
_GROUP = Prepared(select(_groups).where(_groups.c.office_id == bindparam("office_id"), _groups.c.code == bindparam("code"), _groups.c.active))
_REPLAY = Prepared(select(_tickets.c.id).where(_tickets.c.office_id == bindparam("office_id"), _tickets.c.idempotency_key == bindparam("key")))
_TICKET_INSERT = Prepared(_tickets.insert().returning(_tickets.c.id), keys=(
    "public_id", "office_id", "series_id", "service_id", "business_day", "number", "code", "priority_group_id", "status",
    "queue_key", "issued_at", "idempotency_key", "device_id", "issued_by_id", "waiting_ahead", "eta_low", "eta_high",
    "citizen_ref", "age_band", "source", "phone_ref", "phone_mask", "check_in_code", "awaiting_check_in", "appointment_id",
    "appointment_from", "phone_sealed"))
_JOB_INSERT = Prepared(_jobs.insert().returning(_jobs.c.id), keys=("ticket_id", "printer_id", "backup_printer_id", "created_at", "updated_at"))


def issue_ticket(
    session: Session,
    office_id: int,
    service_code: str,
    *,
    priority: str | None = None,
    idempotency_key: str | None = None,
    device_id: int | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
    look_for_replay: bool = True,
    citizen_ref: str | None = None,
    age_band: str | None = None,
    remote: Remote | None = None,
    appointment: Booked | None = None,
) -> Issued:
    """Issue a ticket in the session's write transaction. The same idempotency key answers with
    the first ticket; the device (if any) is marked seen and its printer gets a durable job.

    look_for_replay=False skips that lookup for a caller that retries on IntegrityError: a
    repeated key then fails the ticket's insert (a unique key), and the retry finds the first
    ticket. Every kiosk request carries a key and almost none repeats, so this saves a read.

    An appointment's ticket is not refused by the field's issuing windows or daily quota: its
    place was promised when the slot was booked (the booking's own limits), and a citizen who
    came at the booked time is not sent away because walk-ins used the day's numbers."""
    now = now or clock.now()
    conn = session.connection()
    if idempotency_key and look_for_replay:
        first = _REPLAY.scalar(conn, {"office_id": office_id, "key": idempotency_key})
        if first is not None:
            return replayed(session, first)
    # Rows stand in for the ORM objects: the issuing rules only read their columns.
    service = _SERVICE.first(conn, {"office_id": office_id, "code": service_code})
    if service is None:
        raise unknown_service(service_code)
    office = SimpleNamespace(id=office_id, timezone=service.office_timezone, settings=service.office_settings)
    group = None
    if priority:
        group = _GROUP.first(conn, {"office_id": office_id, "code": priority})
        if group is None:
            raise unknown_priority(priority)
    # The quota is checked against the number drawn below: drawing returns the day's count anyway.
    blocker = issue_blocker(session, office, service, now, last_number=None) if appointment is None else None
    if blocker:
        raise QueueError(blocker[0], blocker[1], blocker[2], status=403)

    day = clock.business_day(now, office.timezone)
    number = next_number(session, service, day)
    if appointment is None and quota_used_up(service, number - 1):
        raise QueueError(*QUOTA_REACHED, status=409)  # the write rolls back, and the number with it
    if remote is not None:
        remote.admit(session, service, day)
    # The new ticket is last of its class, so those ahead are counted before it exists.
    forecast = estimate(session, office, service.id, now, priority=group is not None)
    waiting, est = forecast.waiting, forecast.eta
    ahead = queue_order.ahead_when_last(group is not None, waiting, forecast.priority_waiting)
    if appointment is not None and appointment.opens_at is not None and appointment.opens_at <= now.timestamp():
        ahead = _ahead_in_window(session, office_id, service.id, day, appointment.opens_at, now)
    public_id = secrets.token_urlsafe(16)
    code = Service.format_number(service, number)
    ticket_id = _TICKET_INSERT.scalar(conn, dict(
        public_id=public_id, office_id=office_id, series_id=service.id, service_id=service.id, business_day=day,
        number=number, code=code, priority_group_id=group.id if group else None, status=TicketStatus.waiting,
        queue_key=now.timestamp(), issued_at=now, idempotency_key=idempotency_key, device_id=device_id,
        issued_by_id=user_id, waiting_ahead=ahead, eta_low=est.low, eta_high=est.high,
        citizen_ref=citizen_ref, age_band=age_band,  # from a card (engine.citizens); never the card itself
        source=remote.source if remote else "appointment" if appointment else "kiosk", phone_ref=remote.phone_ref if remote else None,
        phone_mask=remote.phone_mask if remote else None, check_in_code=remote.check_in_code if remote else None,
        awaiting_check_in=bool(remote and remote.check_in_code), phone_sealed=remote.phone_sealed if remote else None,
        appointment_id=appointment.appointment_id if appointment else None, appointment_from=appointment.opens_at if appointment else None,
    ))
    job_id = printer_id = None
    if device_id is not None:
        printer_id, backup_id = mark_seen_and_read_printers(conn, device_id, now)
        if printer_id is not None:
            # Printing happens after the commit (the spooler); the job row makes it durable.
            job_id = _JOB_INSERT.scalar(conn, dict(ticket_id=ticket_id, printer_id=printer_id, backup_printer_id=backup_id,
                                                   created_at=now, updated_at=now))
    view = new_ticket_view(ticket_id, code, number, service, group, now, appointment.mark if appointment else None)
    change = {"ticket": view, "service": service_view(session, office, service, now, waiting=waiting + 1,
                                                      est=forecast.next_eta if group is None else None, last_number=number),
              "print_job": job_id, "printer": printer_id if job_id else None}
    ref = transitions.Ref(ticket_id, office_id, service.id, day, group.id if group else None, code, None)
    transitions.move(session, ref, "issued", now, lambda moved: change, user_id=user_id, device_id=device_id,
                     data={"priority": priority}, local={"public_id": public_id}, conn=conn)  # local: for the ticket's QR code; never broadcast
    return Issued(ticket_id, public_id, True, view, ahead, est, job_id)


def _ahead_in_window(session: Session, office_id: int, service_id: int, day: date, opens_at: float, now: datetime) -> int:
    """Those ahead of an appointment joining its open class: the priority class, and the
    appointments whose window opened before its own (the ticket, not yet written, comes last on ties)."""
    me = SimpleNamespace(id=2**62, priority_group_id=None, appointment_from=opens_at, queue_key=now.timestamp())
    return session.scalar(select(func.count()).where(
        _tickets.c.office_id == office_id, _tickets.c.service_id == service_id, _tickets.c.business_day == day,
        _tickets.c.status == TicketStatus.waiting, queue_order.ahead(_tickets, me, now.timestamp()))) or 0


def replayed(session: Session, ticket_id: int) -> Issued:
    """An earlier ticket answering a repeated request, with its latest print job."""
    t = session.get(Ticket, ticket_id)
    job = session.scalar(select(PrintJob.id).where(PrintJob.ticket_id == t.id).order_by(PrintJob.id.desc()))
    return Issued(t.id, t.public_id, False, ticket_view(t), t.waiting_ahead, Eta(t.eta_low, t.eta_high), job)


def find_ticket(session: Session, public_id: str) -> Ticket:
    t = session.scalar(select(Ticket).where(Ticket.public_id == public_id))
    if t is None:
        raise not_found("phiếu", "Ticket", "unknown_ticket")
    return t


def public_status(session: Session, t: Ticket, now: datetime | None = None) -> dict:
    """What the citizen's phone shows: position, who is served now, an estimate."""
    now = now or clock.now()
    office = session.get(Office, t.office_id)
    ahead = ahead_of(session, t, now) if t.status == TicketStatus.waiting else 0
    est = estimate_waiting(session, office, t, now) if t.status == TicketStatus.waiting else None
    serving = session.scalars(
        select(Ticket.code)
        .join(Counter, Counter.current_ticket_id == Ticket.id)
        .where(Counter.office_id == t.office_id, Ticket.service_id == t.service_id)
        .order_by(Counter.number)
    ).all()
    view = holder_ticket_view(t)
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
    office = session.get(Office, t.office_id)

    def change(moved: transitions.Moved) -> dict:
        data: dict = {"ticket": ticket_view(t)}
        if moved.freed:
            data["counter"] = counter_view(counter)
        data["service"] = service_view(session, office, t.service, now)
        return data

    transitions.move(session, t, "cancelled", now, change, counter=counter, user_id=user.id if user else None, reason=reason)
    return t
