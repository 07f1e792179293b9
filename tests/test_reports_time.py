"""The building blocks of the reports: the percentile definitions, millisecond durations and
local hours that agree with zoneinfo on SQLite and PostgreSQL, daylight saving included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from motcua import stats
from motcua.models import UTCDateTime
from motcua.sqltime import iso_weekday, local_hour, ms_between, offset_periods


def test_percentile_definitions() -> None:
    assert stats.median([]) is None and stats.p90([]) is None
    assert stats.median([7]) == 7.0 and stats.p90([7]) == 7.0
    assert stats.median([1, 2, 3, 4]) == 2.5  # even n: mean of the two middle values
    assert stats.median([1, 2, 3, 4, 100]) == 3.0
    # Nearest rank: ⌈0.9 n⌉, an observed value.
    assert [stats.p90_rank(n) for n in (1, 2, 9, 10, 11, 19, 20, 21, 100)] == [1, 2, 9, 9, 10, 18, 18, 19, 90]
    assert stats.p90(list(range(1, 11))) == 9.0
    assert stats.p90(list(range(1, 12))) == 10.0
    assert stats.ms_to_s(413333.333) == 413.333 and stats.ms_to_min(90000) == 1.5
    assert stats.share(1, 3) == 0.3333 and stats.share(1, 0) is None


def test_offset_periods_find_the_changes_to_the_second() -> None:
    lo = datetime(2025, 1, 1, tzinfo=UTC)
    hi = datetime(2026, 1, 1, tzinfo=UTC)
    assert offset_periods("Asia/Ho_Chi_Minh", lo, hi) == [(None, 7 * 3600)]
    assert offset_periods("Europe/Berlin", lo, hi) == [
        (datetime(2025, 3, 30, 1, 0, tzinfo=UTC), 3600),
        (datetime(2025, 10, 26, 1, 0, tzinfo=UTC), 7200),
        (None, 3600),
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path}/t.db"
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_local_hours_durations_and_weekdays_match_python(engine) -> None:
    """Every 17 minutes through 2025 in Berlin (two daylight-saving changes) and Ho Chi Minh City."""
    from sqlalchemy import Date

    md = MetaData()
    t = Table("moments", md, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()), Column("later", UTCDateTime()),
              Column("day", Date()))
    md.create_all(engine)
    start = datetime(2025, 1, 1, tzinfo=UTC)

    def micro(n: int) -> int:
        # Exactly half a millisecond is a tie SQLite's float parsing may round either way (below).
        return n + 1 if n % 1000 == 500 else n

    moments = [start + timedelta(minutes=17 * i, microseconds=micro((i * 7919) % 1_000_000)) for i in range(31_000)]
    rows = [{"id": i, "at": m, "later": m.replace(microsecond=0) + timedelta(seconds=i % 5000, microseconds=micro((i * 104729) % 1_000_000)),
             "day": m.date()} for i, m in enumerate(moments)]
    ties = [{"id": 100_000 + i, "at": start + timedelta(days=i, microseconds=i * 1000 + 500), "later": start + timedelta(days=i, seconds=9),
             "day": start.date()} for i in range(50)]
    with engine.begin() as c:
        c.execute(insert(t), rows + ties)
    dialect = engine.dialect.name
    for tz in ("Europe/Berlin", "Asia/Ho_Chi_Minh"):
        zone = ZoneInfo(tz)
        hour = local_hour(t.c.at, tz, date(2025, 1, 1), date(2025, 12, 31), dialect)
        with engine.connect() as c:
            got = dict(c.execute(select(t.c.id, hour).where(t.c.id < 100_000)).all())
        want = {r["id"]: r["at"].astimezone(zone).hour for r in rows}
        assert got == want, tz
    with engine.connect() as c:
        got = c.execute(select(t.c.id, ms_between(t.c.later, t.c.at, dialect), iso_weekday(t.c.day, dialect)).order_by(t.c.id)).all()
    got, got_ties = got[: len(rows)], got[len(rows):]

    def ms(moment: datetime) -> int:  # each timestamp rounded half up to the millisecond
        return (int(moment.timestamp()) * 1_000_000 + moment.microsecond + 500) // 1000

    assert [(i, d, w) for i, d, w in got] == [(r["id"], ms(r["later"]) - ms(r["at"]), r["day"].isoweekday()) for r in rows]
    # On a half-millisecond tie the two databases agree to the millisecond; PostgreSQL rounds up.
    for (_, d, _), r in zip(got_ties, ties, strict=True):
        exact = ms(r["later"]) - ms(r["at"])
        assert d == exact if dialect == "postgresql" else exact <= d <= exact + 1
