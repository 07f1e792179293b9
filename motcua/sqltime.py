"""SQL expressions for durations and local time that give the same answers on SQLite and
PostgreSQL.

Timestamps are stored as naive UTC (motcua.models.UTCDateTime).

- Durations are whole milliseconds: each timestamp is rounded to the nearest millisecond, then
  subtracted. SQLite's date functions keep milliseconds (julianday × 86 400 000 rounds back to
  its internal integer); PostgreSQL rounds half up exactly. Both give the same integers, except
  that a timestamp exactly halfway between two milliseconds (microseconds ending in 500) may
  round down on SQLite, which parses seconds as a float: there the two agree to 1 ms. Parsing
  the text exactly on SQLite would cost half as much time again on a year's report.
- Local hour of day: PostgreSQL converts with the office's time zone itself. SQLite knows no
  time zones, so the UTC offsets in force over the report's range are worked out with zoneinfo
  and applied with one CASE branch per offset period (a daylight-saving change is exact to the
  second; Asia/Ho_Chi_Minh has a single period).
- Weekday (ISO, Monday = 1) and day come from the business day, which is already the office's
  local date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, extract, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement


def _to_ms(col: ColumnElement) -> ColumnElement:
    """PostgreSQL: the timestamp rounded half up to the millisecond."""
    return func.date_trunc("milliseconds", col + literal_column("interval '500 microseconds'"))


def ms_between(end: ColumnElement, start: ColumnElement, dialect: str) -> ColumnElement:
    """end − start in whole milliseconds (NULL when either is NULL)."""
    if dialect == "sqlite":
        return cast(func.round(func.julianday(end) * 86400000.0) - func.round(func.julianday(start) * 86400000.0), BigInteger)
    # One interval and one exact (numeric) epoch per row: faster than two epochs (docs/benchmarks.md).
    return cast(extract("epoch", _to_ms(end) - _to_ms(start)) * 1000, BigInteger)


def offset_periods(tz: str, lo: datetime, hi: datetime) -> list[tuple[datetime | None, int]]:
    """[(until_utc, offset_seconds), ...] covering [lo, hi]; the last period's `until` is None."""
    zone = ZoneInfo(tz)

    def off(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    periods: list[tuple[datetime | None, int]] = []
    current = off(lo)
    step = timedelta(hours=1)
    t = lo
    while t < hi:
        nxt = min(t + step, hi)
        if off(nxt) != current:
            a, b = t, nxt  # the change happens in (a, b]: find the first second with the new offset
            while (b - a) > timedelta(seconds=1):
                m = a + (b - a) / 2
                m = m.replace(microsecond=0)
                if m <= a:
                    m = a + timedelta(seconds=1)
                if off(m) == current:
                    a = m
                else:
                    b = m
            periods.append((b, current))
            current = off(b)
        t = nxt
    periods.append((None, current))
    return periods


def utc_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """A generous UTC window around the local days [start, end] (legs can be queued a little
    outside their business day, e.g. a transfer after midnight)."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC) - timedelta(days=2)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC) + timedelta(days=2)
    return lo, hi


def local_hour(col: ColumnElement, tz: str, start: date, end: date, dialect: str) -> ColumnElement:
    """The hour (0–23) of a UTC timestamp column in the time zone `tz`."""
    if dialect != "sqlite":
        local = func.timezone(tz, func.timezone("UTC", col))
        return cast(extract("hour", local), Integer)

    def hour_at(offset: int) -> ColumnElement:
        return cast(func.strftime("%H", col, f"{offset:+d} seconds"), Integer)

    periods = offset_periods(tz, *utc_bounds(start, end, tz))
    if len(periods) == 1:
        return hour_at(periods[0][1])
    whens = [(col < until, hour_at(offset)) for until, offset in periods[:-1]]
    return case(*whens, else_=hour_at(periods[-1][1]))


def iso_weekday(day_col: ColumnElement, dialect: str) -> ColumnElement:
    """ISO weekday of a DATE column: Monday = 1 … Sunday = 7."""
    if dialect == "sqlite":
        w = cast(func.strftime("%w", day_col), Integer)  # Sunday = 0
        return (w + literal(6)) % 7 + 1
    return cast(extract("isodow", day_col), Integer)
