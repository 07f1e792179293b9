"""Appointment punctuality: of the bookings of a range (not cancelled), how many arrived in their
window, early, late, or never (the day end marked them no-show; a past day's booking not yet
marked counts too), per field and in total."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from manager.reports.base import Names, check_range
from motcua.booking.model import Appointment, AppointmentStatus
from motcua.engine import clock
from motcua.models import Office

KINDS = ("in_window", "early", "late", "never")

# (key, Vietnamese header) of the punctuality table.
PUNCTUALITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("service", "Mã lĩnh vực"),
    ("service_name", "Lĩnh vực"),
    ("booked", "Lịch hẹn"),
    ("in_window", "Đến đúng khung giờ"),
    ("early", "Đến sớm"),
    ("late", "Đến muộn"),
    ("never", "Không đến"),
    ("in_window_share", "Tỷ lệ đúng khung giờ"),
)


def appointment_punctuality(session: Session, office: Office, start: date, end: date) -> list[dict[str, Any]]:
    """A row per field with bookings in the range, then the total (service None); empty without bookings."""
    check_range(start, end)
    today = clock.business_day(clock.now(), office.timezone)
    a = Appointment.__table__
    rows = session.execute(
        select(a.c.service_id, a.c.status, a.c.arrival, a.c.day < today, func.count())
        .where(a.c.office_id == office.id, a.c.day >= start, a.c.day <= end, a.c.status != AppointmentStatus.cancelled)
        .group_by(a.c.service_id, a.c.status, a.c.arrival, a.c.day < today)
    ).all()
    per: dict[int, dict[str, int]] = {}
    for service_id, status, arrival, past, n in rows:
        counts = per.setdefault(service_id, dict.fromkeys(("booked", *KINDS), 0))
        counts["booked"] += n
        if status == AppointmentStatus.checked_in and arrival in KINDS:
            counts[arrival] += n
        elif status == AppointmentStatus.no_show or (status == AppointmentStatus.booked and past):
            counts["never"] += n
    if not per:
        return []
    services = Names.load(session, office).services
    out = [_row(services[sid].code, services[sid].name, per[sid]) for sid in sorted(per, key=lambda sid: (services[sid].sort_order, sid))]
    total = {k: sum(c[k] for c in per.values()) for k in ("booked", *KINDS)}
    return [*out, _row(None, "Tổng", total)]


def _row(code: str | None, name: str, counts: dict[str, int]) -> dict[str, Any]:
    arrived = counts["in_window"] + counts["early"] + counts["late"] + counts["never"]
    return {"service": code, "service_name": name, **counts, "in_window_share": counts["in_window"] / arrived if arrived else None}
