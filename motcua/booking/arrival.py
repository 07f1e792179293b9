"""An appointment checked in at the kiosk becomes a ticket marked `appointment`.

The window is [start − appointment_early_minutes, start + appointment_late_minutes]. Inside it,
or before it (an early arrival), the ticket's `appointment_from` is the window's opening: the
queue order (motcua.engine.queue_order) calls it before the field's walk-ins from then on, and
until then an early arrival waits as a walk-in. After the window the citizen is late: the
ticket is a walk-in (no `appointment_from`). Which of the three the arrival was is kept for the
punctuality report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua.booking.model import Appointment, AppointmentStatus
from motcua.booking.settings import OfficeBooking
from motcua.engine import clock
from motcua.engine.errors import conflict
from motcua.engine.tickets import Issued, issue_ticket, replayed
from motcua.engine.views import iso
from motcua.models import Office, Service, Ticket

EARLY, IN_WINDOW, LATE = "early", "in_window", "late"


@dataclass(frozen=True)
class Arrival:
    """engine.tickets.Booked: what the appointment adds to the ticket."""

    appointment_id: int
    opens_at: float | None
    mark: dict
    arrival: str


def arrival_of(a: Appointment, ob: OfficeBooking, now: datetime) -> tuple[str, float | None]:
    """(early | in_window | late, the moment its appointment class opens or None)."""
    opens, closes = a.start - timedelta(minutes=ob.early_minutes), a.start + timedelta(minutes=ob.late_minutes)
    if now > closes:
        return LATE, None
    return (EARLY if now < opens else IN_WINDOW), opens.timestamp()


def check_in(session: Session, office: Office, a: Appointment, *, now: datetime | None = None, device_id: int | None = None,
             user_id: int | None = None, idempotency_key: str | None = None, look_for_replay: bool = True) -> tuple[Issued, dict]:
    """Issue the appointment's ticket (in the session's write transaction); answers with it and
    the appointment's part of the kiosk's answer."""
    now = now or clock.now()
    if a.status == AppointmentStatus.checked_in and idempotency_key:  # the kiosk's retry of the check-in that went through
        first = session.scalar(select(Ticket.id).where(Ticket.office_id == office.id, Ticket.idempotency_key == idempotency_key))
        if first is not None and first == a.ticket_id:
            return replayed(session, first), {"start": iso(a.start), "end": iso(a.end), "arrival": a.arrival, "code": a.code}
    if a.status == AppointmentStatus.cancelled:
        raise conflict("appointment_cancelled", "Lịch hẹn này đã bị hủy.", "This appointment was cancelled.")
    if a.status != AppointmentStatus.booked:
        raise conflict("appointment_used", "Lịch hẹn này đã được dùng để lấy số.", "This appointment has already been used.")
    if a.day != clock.business_day(now, office.timezone):
        here = clock.local(a.start, office.timezone)
        raise conflict("appointment_not_today", f"Lịch hẹn này vào ngày {here:%d/%m/%Y} lúc {here:%H:%M}, không phải hôm nay.",
                       f"This appointment is on {here:%Y-%m-%d} at {here:%H:%M}, not today.")
    arrival, opens_at = arrival_of(a, OfficeBooking.of(office.settings), now)
    service = session.get(Service, a.service_id)
    mark = {"start": iso(a.start), "end": iso(a.end)}
    issued = issue_ticket(session, office.id, service.code, now=now, device_id=device_id, user_id=user_id, idempotency_key=idempotency_key,
                          look_for_replay=look_for_replay, appointment=Arrival(a.id, opens_at, mark, arrival))
    if issued.created:
        a.status, a.ticket_id, a.checked_in_at, a.arrival = AppointmentStatus.checked_in, issued.id, now, arrival
        if a.phone_sealed is not None:  # "near" and "called" for the ticket now (motcua.notify); the booking keeps none
            session.execute(update(Ticket).where(Ticket.id == issued.id).values(phone_sealed=a.phone_sealed, phone_mask=a.phone_mask)
                            .execution_options(synchronize_session=False))
            a.phone_sealed = None
        session.flush()
    return issued, {**mark, "arrival": a.arrival, "code": a.code}
