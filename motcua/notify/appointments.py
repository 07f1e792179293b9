"""Appointments' messages: "booked" when a place is booked, "reminder" `reminder_minutes`
(default 60) before the slot, for a booking still open. Both go to the office's channels that
want them; a webhook channel only when the booking kept the phone sealed (the office had a
gateway when it was booked). Nothing is sent for a booking cancelled, checked in or missed
meanwhile (`stale`, the sender's check for the "a:" subjects). Once checked in, the citizen's
ticket carries the phone, and "near" and "called" follow as for a remote number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.booking.model import Appointment, AppointmentStatus
from motcua.engine import clock
from motcua.models import Office, Service
from motcua.notify import outbox
from motcua.notify.channels import channels_for
from motcua.notify.outbox import Notification

DEFAULT_REMINDER_MINUTES = 60


def message_body(a: Appointment, service: Service) -> dict:
    return {"ticket": {"code": a.code, "service": service.name}, "slot": a.start.isoformat()}


def booked(app: Flask, session: Session, a: Appointment, now: datetime | None = None) -> int:
    """Queue "booked" in the booking's transaction (call `notify.wake` after the commit)."""
    office = session.get(Office, a.office_id)
    return queue_for_appointment(app, session, office, a.id, "booked", message_body(a, session.get(Service, a.service_id)),
                                 phone_sealed=a.phone_sealed, phone_mask=a.phone_mask, now=now or a.booked_at)


def remind_due(app: Flask, now: datetime) -> int:
    """The worker's tick: queue "reminder" for open bookings whose slot starts within the office's
    `reminder_minutes`, booked before that (a booking made later needs none). Repeats insert nothing."""
    from motcua.state import state

    codes = [oc.code for oc in state(app).config.offices if channels_for(app, oc.code)]
    if not codes:
        return 0
    db = state(app).db
    with db.read() as s:  # most ticks find nothing: no write lock for them
        due = [(a.office_id, a.id) for a in _due(s, codes, now)]
    if not due:
        return 0
    queued = 0
    with db.write() as s:
        for office_id, appointment_id in due:
            a, office = s.get(Appointment, appointment_id), s.get(Office, office_id)
            if a.status == AppointmentStatus.booked:
                queued += queue_for_appointment(app, s, office, a.id, "reminder", message_body(a, s.get(Service, a.service_id)),
                                                phone_sealed=a.phone_sealed, phone_mask=a.phone_mask, now=now)
    return queued


def _due(session: Session, codes: list[str], now: datetime) -> list[Appointment]:
    found = []
    for office in session.scalars(select(Office).where(Office.code.in_(codes)).order_by(Office.id)):
        lead = timedelta(minutes=int((office.settings or {}).get("reminder_minutes", DEFAULT_REMINDER_MINUTES)))
        found += [a for a in session.scalars(select(Appointment).where(
            Appointment.office_id == office.id, Appointment.status == AppointmentStatus.booked,
            Appointment.day == clock.business_day(now, office.timezone), Appointment.start > now,
            Appointment.start <= now + lead).order_by(Appointment.start, Appointment.id))
            if a.booked_at < a.start - lead and not _reminded(session, a.id)]
    return found


def _reminded(session: Session, appointment_id: int) -> bool:
    return session.scalar(select(Notification.id).where(Notification.subject == f"a:{appointment_id}",
                                                        Notification.event == "reminder").limit(1)) is not None


def stale(session: Session, note: Notification) -> str | None:
    a = session.get(Appointment, note.appointment_id)
    if a is None:
        return "appointment gone"
    if a.status != AppointmentStatus.booked:
        return f"appointment {a.status.value}"
    return None


def queue_for_appointment(app: Flask, session: Session, office: Office, appointment_id: int, event: str, body: dict, *,
                          phone_sealed: str | None, phone_mask: str | None, key: str = "", now: datetime | None = None) -> int:
    """Queue an appointment's "booked" or "reminder" in the caller's write transaction, for every
    channel of the office that wants it; call `wake(app)` after the commit. `body` is what a
    webhook sends besides event, phone and at (office, ticket-like {code, service}, the slot);
    `phone_sealed` comes from `seal.seal` with the instance secret. Answers the rows queued
    (0 when queued before: the same appointment, event and key are sent once). Before sending,
    `stale` (registered in `sender.stale_checks["a"]`) drops it for a booking no longer open."""
    now = now or clock.now()
    body = {"office": office.code, "at": now.isoformat(), **body}
    queued = 0
    for ch in channels_for(app, office.code):
        if ch.wants(event) and (phone_sealed is not None or not getattr(ch, "needs_phone", False)):
            queued += outbox.queue(session, office_id=office.id, channel=ch.name, event=event, key=key, body=body, now=now,
                                   appointment_id=appointment_id, phone_mask=phone_mask, phone_sealed=phone_sealed)
    return queued
