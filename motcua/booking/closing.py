"""What the day end does to appointments: a booking of an earlier day never checked in is a
no-show (counted "never" in the punctuality report), and the booked names and phones' keyed
hashes older than `personal_data_days` are cleared (Decree 13/2023), as the tickets' card references are."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from motcua.booking.model import Appointment, AppointmentStatus
from motcua.engine.citizens import personal_data_days
from motcua.models import Office


def close_appointments(session: Session, office: Office, today: date) -> tuple[int, int]:
    """(bookings marked no-show, bookings whose name was cleared)."""
    absent = session.execute(update(Appointment).where(
        Appointment.office_id == office.id, Appointment.day < today, Appointment.status == AppointmentStatus.booked,
    ).values(status=AppointmentStatus.no_show).execution_options(synchronize_session=False)).rowcount or 0
    # No sealed phone outlives its day (motcua.notify): reminders of earlier days are past.
    session.execute(update(Appointment).where(Appointment.office_id == office.id, Appointment.day < today,
                                              Appointment.phone_sealed.is_not(None))
                    .values(phone_sealed=None).execution_options(synchronize_session=False))
    cutoff = today - timedelta(days=personal_data_days(office))
    forgotten = session.execute(update(Appointment).where(
        Appointment.office_id == office.id, Appointment.day < cutoff,
        or_(Appointment.name.is_not(None), Appointment.phone_ref.is_not(None)),
    ).values(name=None, phone_ref=None).execution_options(synchronize_session=False)).rowcount or 0
    return absent, forgotten
