"""The slots of a bookable field on a day, in the office's time zone, with the places left.

A day offers nothing when the field is not bookable, on a holiday or a day the office does not
work, before today or past `days_ahead`; a slot lies inside the day's working hours, and is no
longer offered `close_minutes_before` its start. A place is taken by a booking that was not cancelled (a no-show kept its place).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.booking.model import HOLDS_A_PLACE, Appointment
from motcua.booking.settings import FieldBooking, field_booking
from motcua.config import parse_span
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.models import Counter, CounterService, Office, Service


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    left: int

    def view(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "left": self.left}


@dataclass(frozen=True)
class Day:
    """What a field offers on a day: its slots, or why none."""

    slots: list[Slot]
    per_slot: int | None
    closed: tuple[str, str, str] | None


NOT_BOOKABLE = ("booking_closed", "Lĩnh vực này không nhận đặt lịch hẹn.", "This field does not take appointments.")


def booking_closed() -> QueueError:
    return QueueError(NOT_BOOKABLE[0], NOT_BOOKABLE[1], NOT_BOOKABLE[2], status=403)


def places_per_slot(session: Session, service: Service, fb: FieldBooking) -> int:
    """The field's places per slot (FieldBooking.places) from its active counters' weights."""
    if fb.per_slot is not None:
        return fb.per_slot
    totals = (select(CounterService.counter_id, func.sum(CounterService.weight).label("total"))
              .group_by(CounterService.counter_id).subquery())
    rows = session.execute(
        select(CounterService.weight, totals.c.total)
        .join(Counter, Counter.id == CounterService.counter_id)
        .join(totals, totals.c.counter_id == CounterService.counter_id)
        .where(CounterService.service_id == service.id, Counter.active)
    ).all()
    return fb.places([(w, total) for w, total in rows], service.service_minutes)


def _why_none(fb: FieldBooking, office: Office, day: date, today: date) -> tuple[str, str, str] | None:
    settings = office.settings or {}
    if day < today:
        return ("past_day", "Ngày này đã qua.", "This day is over.")
    if day > today + timedelta(days=fb.days_ahead):
        return ("too_far", f"Chỉ đặt lịch trước tối đa {fb.days_ahead} ngày.", f"Appointments can be booked at most {fb.days_ahead} days ahead.")
    if day.isoformat() in set(settings.get("holidays") or []):
        return ("holiday", "Ngày nghỉ lễ, không nhận lịch hẹn.", "A public holiday: no appointments.")
    if not fb.spans_on(day, settings):
        return ("closed_day", "Ngày này không nhận lịch hẹn.", "No appointments on this day.")
    return None


def _starts(fb: FieldBooking, office: Office, day: date) -> list[tuple[datetime, datetime]]:
    """The day's slots (UTC), inside the office's working hours when it has them (a list of
    spans for every working day must not offer a Saturday afternoon the office is closed)."""
    zone = clock.zone(office.timezone)
    working = [parse_span(x) for x in clock.spans_for((office.settings or {}).get("working_hours"), day) or []]
    out = []
    step = timedelta(minutes=fb.slot_minutes)
    for span in fb.spans_on(day, office.settings or {}):
        begin, end = parse_span(span)
        at, until = datetime.combine(day, begin, tzinfo=zone), datetime.combine(day, end, tzinfo=zone)
        while at + step <= until:
            if not working or any(w0 <= at.time() and (at + step).time() <= w1 for w0, w1 in working):
                out.append((at.astimezone(UTC), (at + step).astimezone(UTC)))
            at += step
    return sorted(out)


def day_slots(session: Session, office: Office, service: Service, day: date, now: datetime) -> Day:
    fb = field_booking(office.settings, service.code)
    if fb is None or not service.active:
        return Day([], None, NOT_BOOKABLE)
    why = _why_none(fb, office, day, clock.business_day(now, office.timezone))
    if why:
        return Day([], None, why)
    per_slot = places_per_slot(session, service, fb)
    taken = dict(session.execute(
        select(Appointment.start, func.count()).where(
            Appointment.service_id == service.id, Appointment.day == day, Appointment.status.in_(HOLDS_A_PLACE))
        .group_by(Appointment.start)).all())
    closes = now + timedelta(minutes=fb.close_minutes_before)
    slots = [Slot(start, end, max(per_slot - taken.get(start, 0), 0)) for start, end in _starts(fb, office, day) if start >= closes]
    return Day(slots, per_slot, None)


def bad_slot() -> QueueError:
    return QueueError("bad_slot", "Giờ hẹn này không có hoặc không còn nhận đặt.", "There is no such slot open for booking.", status=422)


def offered(session: Session, office: Office, service: Service, start: datetime, now: datetime) -> tuple[Slot, int]:
    """The slot beginning at `start` if it is offered now, and the places it has; else refused."""
    day = day_slots(session, office, service, clock.business_day(start, office.timezone), now)
    if day.closed == NOT_BOOKABLE:
        raise booking_closed()
    for slot in day.slots:
        if slot.start == start:
            return slot, day.per_slot
    raise bad_slot()
