"""The `Appointment` row: a place in a field's slot, booked from a phone, checked in at the kiosk.

Kept outside motcua.models (as `DayEndRun` is): motcua.booking is imported wherever the app is
built, so the table is in the metadata Alembic and `create_all` see.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from motcua.models import Base, _enum


class AppointmentStatus(str, enum.Enum):
    booked = "booked"
    checked_in = "checked_in"
    cancelled = "cancelled"
    no_show = "no_show"


# A place of the slot is taken by these (a cancelled booking frees its place).
HOLDS_A_PLACE = (AppointmentStatus.booked, AppointmentStatus.checked_in, AppointmentStatus.no_show)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        # The code typed at the kiosk names one appointment of the office's day.
        UniqueConstraint("office_id", "day", "code"),
        # Places left in a slot, and a phone's bookings of a field and day.
        Index("ix_appointments_slot", "service_id", "start"),
        Index("ix_appointments_phone", "office_id", "day", "phone_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(8))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)  # the office's local day of `start`
    start: Mapped[datetime]
    end: Mapped[datetime]
    # The booked name, in clear: the clerk greets the citizen by it. Wiped with the tickets'
    # citizen references after `personal_data_days` (motcua.engine.citizens.forget_citizens).
    name: Mapped[str | None] = mapped_column(String(200))
    phone_ref: Mapped[str | None] = mapped_column(String(64))
    phone_mask: Mapped[str | None] = mapped_column(String(16))
    # The number itself, encrypted, only while the office's SMS/Zalo gateway may need it for
    # "booked" and "reminder" (motcua.notify); cleared at check-in, cancel and by the day end.
    phone_sealed: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AppointmentStatus] = mapped_column(_enum(AppointmentStatus), default=AppointmentStatus.booked)
    booked_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    checked_in_at: Mapped[datetime | None]
    arrival: Mapped[str | None] = mapped_column(String(16))  # in_window | early | late
