"""What every report shares: the range of business days, the grouping names, the tables and
the small expressions (a leg's wait and service time in whole milliseconds), and the lookup of
names. Plain functions over a session, no Flask.

The unit is the queue leg (`ticket_legs`): a ticket has one leg per field queue it joined, so a
transferred ticket counts once in each field, and its waits are measured per leg. A report
covers the business days [start, end] (the office's local dates) of one office.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from motcua.engine.errors import QueueError
from motcua.models import Counter, Office, PriorityGroup, Rating, Service, Ticket, TicketEvent, TicketLeg, User
from motcua.sqltime import ms_between

GROUPS = ("counter", "clerk", "service", "hour", "weekday", "day", "source")
ALIASES = {"field": "service", "linh_vuc": "service"}
MAX_DAYS = 3 * 366
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OUTCOMES_VI = {"served": "Đã phục vụ", "no_show": "Vắng mặt", "transferred": "Chuyển lĩnh vực", "cancelled": "Đã hủy", None: "Chưa kết thúc"}
NOT_CALLED_VI = "(chưa gọi)"
# Where tickets came from (tickets.source).
SOURCES_VI = {"kiosk": "Tại kiosk", "remote": "Lấy số từ xa", "appointment": "Đặt lịch hẹn"}

L = TicketLeg.__table__
T = Ticket.__table__
R = Rating.__table__
E = TicketEvent.__table__


# ---- periods ---------------------------------------------------------------------------


def check_range(start: date, end: date) -> None:
    if end < start:
        raise QueueError("bad_range", "Ngày kết thúc phải sau ngày bắt đầu.", "The end date must not be before the start date.", status=422)
    if (end - start).days >= MAX_DAYS:
        raise QueueError("range_too_long", "Khoảng thời gian tối đa là 3 năm.", "The longest range is 3 years.", status=422)


def parse_day(text: str | None, default: date, name: str) -> date:
    """YYYY-MM-DD (ISO 8601), or dd/mm/yyyy as typed on Vietnamese pages."""
    if not text:
        return default
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = (int(p) for p in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text)
    except ValueError:
        raise QueueError(
            "bad_date", f"Ngày '{text}' ({name}) không hợp lệ: dùng YYYY-MM-DD.", f"Invalid date '{text}' ({name}): use YYYY-MM-DD.", status=422
        ) from None


def month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def normalise_group(group_by: str | None) -> str:
    g = ALIASES.get(group_by or "", group_by or "service")
    if g not in GROUPS:
        raise QueueError(
            "bad_group_by",
            f"Cách nhóm '{group_by}' không hợp lệ: dùng {', '.join(GROUPS)}.",
            f"Unknown group_by '{group_by}': use {', '.join(GROUPS)}.",
            status=422,
        )
    return g


# ---- labels ----------------------------------------------------------------------------


@dataclass
class Names:
    """Small lookup tables, so the big queries need no joins for names."""

    counters: dict[int, Counter]
    users: dict[int, User]
    services: dict[int, Service]
    groups: dict[int, PriorityGroup]

    @classmethod
    def load(cls, session: Session, office: Office) -> Names:
        counters = {c.id: c for c in session.scalars(select(Counter).where(Counter.office_id == office.id))}
        services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
        groups = {g.id: g for g in session.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id))}
        # Clerks of the office, and anyone else who ever served a leg here (an admin of all offices).
        users = {u.id: u for u in session.scalars(select(User).where(or_(User.office_id == office.id, User.office_id.is_(None))))}
        return cls(counters, users, services, groups)

    def user_name(self, user_id: int | None) -> str | None:
        u = self.users.get(user_id) if user_id is not None else None
        return (u.full_name or u.username) if u else None


def rating_scale(office: Office) -> list[str]:
    from motcua.engine.ratings import scale

    return scale(office)[0]


def satisfied(score: int, scale: int) -> bool:
    """The better half of the scale (score 1 is the best)."""
    return score <= scale // 2


# ---- shared expressions ----------------------------------------------------------------


def in_range(office: Office, start: date, end: date):
    return and_(L.c.office_id == office.id, L.c.business_day >= start, L.c.business_day <= end)


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def wait_ms(dialect: str):
    return ms_between(L.c.called_at, L.c.queued_at, dialect)


def service_ms(dialect: str):
    return case((and_(L.c.started_at.is_not(None), L.c.finished_at.is_not(None)), ms_between(L.c.finished_at, L.c.started_at, dialect)))


def plain_rows(session: Session, stmt: Any) -> list[tuple]:
    """All rows as the driver returns them, without building a Row object each: a year of
    legs is a million rows, and this halves the Python time. Only for columns whose driver
    values are already what we want (integers; the day key is cast to text)."""
    result = session.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()

