"""Time, business days and issuing windows in the office's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from motcua.config import WEEKDAYS, parse_span


def now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(zone(tz))


def business_day(moment: datetime, tz: str) -> date:
    """Numbers restart at local midnight, whatever the server's own clock zone is."""
    return local(moment, tz).date()


def local_hours(start: datetime, end: datetime, tz: str):
    """Split [start, end) into (local day, local hour, seconds) pieces."""
    a, b = local(start, tz), local(end, tz)
    while a < b:
        nxt = min(b, a.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        yield a.date(), a.hour, (nxt - a).total_seconds()
        a = nxt


def spans_for(table: dict | None, day: date) -> list[str] | None:
    """The spans configured for that weekday; None when the table is not set at all."""
    if not table:
        return None
    return list(table.get(WEEKDAYS[day.weekday()], []))


def closed_reason(settings: dict, service_windows: dict | None, moment: datetime, tz: str) -> tuple[str, str, str] | None:
    """Why tickets cannot be issued now, as (code, Vietnamese, English), or None when open."""
    here = local(moment, tz)
    if here.date().isoformat() in set(settings.get("holidays", [])):
        return ("holiday", "Hôm nay là ngày nghỉ lễ, không cấp số thứ tự.", "Today is a public holiday: no tickets are issued.")
    spans = spans_for(service_windows, here.date())
    if spans is None:
        spans = spans_for(settings.get("issuing_windows"), here.date())
    if spans is None:  # no windows configured: issue all day
        return None
    if not spans:
        return ("closed_day", "Hôm nay không làm việc, không cấp số thứ tự.", "The office does not work today: no tickets are issued.")
    t = here.time()
    for span in spans:
        start, end = parse_span(span)
        if start <= t <= end:
            return None
    pretty = ", ".join(s.replace("-", "–") for s in spans)
    return (
        "outside_window",
        f"Ngoài giờ lấy số. Giờ lấy số hôm nay: {pretty}.",
        f"Outside ticket hours. Today's ticket hours: {pretty}.",
    )
