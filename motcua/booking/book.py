"""Booking an appointment from a phone, cancelling it, and finding it again.

A booking takes a place of a slot (`slots.offered`) under the field's lock: the field's row is
locked (`SELECT … FOR UPDATE`) before the places and the phone's bookings are counted, so on
PostgreSQL two bookings of one field count one after the other and the last place goes to
exactly one of them; SQLite's writer lock already orders every write. Bookings are a handful a
minute, so waiting for the field's lock costs nothing that matters, and it covers the per-phone
limit too, which a unique index on the slot's places would not.

The phone is kept as an HMAC with the instance secret and a mask (as remote numbers); the name
in clear, for the clerk, until the day end clears it after `personal_data_days`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.booking.model import Appointment, AppointmentStatus
from motcua.booking.settings import OfficeBooking, field_booking
from motcua.booking.slots import bad_slot, booking_closed, offered
from motcua.engine import clock
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.remote import CODE_LENGTH, find_office, fresh_code, mask_phone, normalise_phone, phone_ref
from motcua.engine.tickets import find_service
from motcua.engine.views import iso
from motcua.models import Office, Service, Ticket

# The appointment page's address as the kiosk's scanner types it: .../a/<public_id>
PAGE_URL = re.compile(r"/a/([A-Za-z0-9_-]{16,32})(?:[/?#]|$)")


def unknown_appointment() -> QueueError:
    return not_found("lịch hẹn với mã này", "An appointment with this code", "unknown_appointment")


def parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad_slot() from None
    if start.tzinfo is None:
        raise bad_slot()
    return start.astimezone(UTC)


def book(session: Session, office_code: str, service_code: str, start_text: str, *, name: str, phone: str, secret: str,
         now: datetime | None = None, seal: Callable[[str, str], str | None] | None = None) -> Appointment:
    """Book a place in the slot starting at `start_text`, in the session's write transaction.
    `seal(office code, phone)` keeps the number encrypted when the office's gateway needs it (motcua.notify)."""
    now = now or clock.now()
    office = find_office(session, office_code)
    service = find_service(session, office, service_code)
    if field_booking(office.settings, service.code) is None:
        raise booking_closed()
    start = parse_start(start_text)
    phone = normalise_phone(phone)
    name = " ".join(name.split())
    if not name:
        raise QueueError("name_required", "Vui lòng nhập họ tên.", "Please enter a name.", status=422)
    # The field's bookings count one after the other (see the module's docstring).
    session.execute(select(Service.id).where(Service.id == service.id).with_for_update())
    slot, _ = offered(session, office, service, start, now)
    if slot.left <= 0:
        raise QueueError("slot_full", "Giờ hẹn này đã hết chỗ, vui lòng chọn giờ khác.", "This slot is full; please choose another.", status=409)
    day = clock.business_day(start, office.timezone)
    ref = phone_ref(secret, phone)
    per_phone = OfficeBooking.of(office.settings).per_phone
    held = session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.office_id == office.id, Appointment.service_id == service.id, Appointment.day == day,
        Appointment.phone_ref == ref, Appointment.status == AppointmentStatus.booked)) or 0
    if held >= per_phone:
        raise QueueError("booking_limit", f"Số điện thoại này đã có {per_phone} lịch hẹn của lĩnh vực này trong ngày.",
                         f"This phone already has {per_phone} appointment(s) for this field that day.", status=409)
    code = fresh_code(session, Appointment.code, Appointment.office_id == office.id, Appointment.day == day)
    a = Appointment(public_id=secrets.token_urlsafe(16), code=code, office_id=office.id,
                    service_id=service.id, day=day, start=slot.start, end=slot.end, name=name[:200], phone_ref=ref,
                    phone_mask=mask_phone(phone), status=AppointmentStatus.booked, booked_at=now,
                    phone_sealed=seal(office.code, phone) if seal else None)
    session.add(a)
    session.flush()
    return a


def find_for_cancel(session: Session, key: str, office_code: str | None = None) -> Appointment:
    """The appointment named by its page's id, or by its code (with the office when two share it)."""
    a = session.scalar(select(Appointment).where(Appointment.public_id == key))
    if a is not None:
        return a
    typed = re.sub(r"[\s-]", "", key).upper()
    query = select(Appointment).where(Appointment.code == typed)
    if office_code:
        query = query.join(Office, Office.id == Appointment.office_id).where(Office.code == office_code)
    found = session.scalars(query.limit(20)).all()
    # A code names one booking of an office's day: the open one, if another office or day reused it.
    pick = [a for a in found if a.status == AppointmentStatus.booked] or found
    if len(pick) != 1:
        raise unknown_appointment()
    return pick[0]


def cancel(session: Session, a: Appointment, now: datetime | None = None) -> Appointment:
    """Cancel a booking (its place is free again); once checked in or past, refused."""
    now = now or clock.now()
    if a.status == AppointmentStatus.cancelled:
        return a
    if a.status != AppointmentStatus.booked:
        raise conflict("appointment_used", "Lịch hẹn đã được sử dụng, không thể hủy.", "The appointment has been used and cannot be cancelled.")
    a.status, a.cancelled_at, a.phone_sealed = AppointmentStatus.cancelled, now, None
    session.flush()
    return a


def find_by_page(session: Session, public_id: str) -> Appointment:
    a = session.scalar(select(Appointment).where(Appointment.public_id == public_id))
    if a is None:
        raise not_found("lịch hẹn", "Appointment", "unknown_appointment")
    return a


def find_appointment(session: Session, office: Office, *, code: str | None = None, scan: str | None = None,
                     now: datetime | None = None) -> Appointment:
    """The office's appointment named by its typed code or its page's QR (`/a/<public_id>`); a code
    is looked for today first (codes are unique per office and day)."""
    query = select(Appointment).where(Appointment.office_id == office.id)
    if scan is not None:
        m = PAGE_URL.search(scan.strip())
        if not m:
            raise unknown_appointment()
        a = session.scalar(query.where(Appointment.public_id == m.group(1)))
    else:
        typed = re.sub(r"[\s-]", "", code or "").upper()
        if len(typed) != CODE_LENGTH:
            raise unknown_appointment()
        today = clock.business_day(now or clock.now(), office.timezone)
        found = session.scalars(query.where(Appointment.code == typed)).all()
        a = min(found, key=lambda x: (x.day != today, abs((x.day - today).days)), default=None)
    if a is None:
        raise unknown_appointment()
    return a


def booked_view(a: Appointment, service: Service) -> dict:
    return {"code": a.code, "public_id": a.public_id, "service": service.code, "start": iso(a.start), "end": iso(a.end)}


def appointment_view(session: Session, a: Appointment) -> dict:
    """The appointment page's data (never the booked name: whoever holds the link sees it)."""
    office, service = session.get(Office, a.office_id), session.get(Service, a.service_id)
    t = session.get(Ticket, a.ticket_id) if a.ticket_id else None
    return {**booked_view(a, service), "office": office.code, "service_name": service.name, "status": a.status.value,
            "ticket": {"public_id": t.public_id, "code": t.code} if t else None, "phone_mask": a.phone_mask}


def booked_names(session: Session, appointment_ids: list[int | None]) -> dict[int, str | None]:
    """The booked names of these appointments (the clerk's own screen only)."""
    ids = sorted({i for i in appointment_ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(select(Appointment.id, Appointment.name).where(Appointment.id.in_(ids))).all())
