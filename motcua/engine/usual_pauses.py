"""A counter's usual pauses: a clerk who steps away at about 08:50 on most mornings will likely do
so again today, and the citizens waiting then wait longer.

From the earlier days, a counter's pauses that start within CLUSTER_S of each other on different
days are one usual pause when they happened on at least half of the days it worked; it is
expected at their median start, for their median length times the share of days it happened.
The wait model lets the counter take it when it is free at or after that moment, as a clerk
finishes the citizen in hand first. It is not expected when the counter already paused near that
time today, or when that time is long past.

The figures move slowly and are read once per office for field_stats.STATS_TTL_S; a counter with
no earlier day expects no pause."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from motcua.engine import clock, field_stats
from motcua.models import CounterEvent
from motcua.prepared import Prepared

CLUSTER_S = 30 * 60
MIN_DAYS_SHARE = 0.5

_events = CounterEvent.__table__
_HISTORY = Prepared(
    select(_events.c.counter_id, _events.c.kind, _events.c.at)
    .where(_events.c.office_id == bindparam("office_id"), _events.c.at >= bindparam("since"), _events.c.at < bindparam("until"))
    .order_by(_events.c.counter_id, _events.c.at, _events.c.id)
)
_TODAY = Prepared(
    select(_events.c.counter_id, _events.c.at)
    .where(_events.c.office_id == bindparam("office_id"), _events.c.at >= bindparam("since"), _events.c.kind == "paused")
)


@dataclass(frozen=True)
class UsualPause:
    start_s: float  # seconds after local midnight
    length_s: float  # expected length (its median length × the share of days it happened)


# (database, office) -> (day, read at, usual pauses): one entry per office, replaced the next day.
_cache: dict[tuple[str, int], tuple[date, datetime, dict[int, list[UsualPause]]]] = {}


def expected_pauses(session: Session, office_id: int, day: date, now: datetime, tz: str) -> dict[int, tuple[float, float]]:
    """Counter id -> (epoch second, length in seconds) of the next usual pause still to come today."""
    usual = _usual(session, office_id, day, now, tz)
    if not usual:
        return {}
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=clock.zone(tz)).timestamp()
    ts = now.timestamp()
    coming = {counter: [(midnight + p.start_s, p.length_s) for p in pauses if midnight + p.start_s + CLUSTER_S >= ts]
              for counter, pauses in usual.items()}
    taken: dict[int, list[float]] = {}
    # A pause taken today can be near a usual one only once that one's window has begun: before
    # then (most of the day) issuing reads nothing here.
    if any(at - CLUSTER_S <= ts for pauses in coming.values() for at, _ in pauses):
        for counter, at in _TODAY.all(session.connection(), {"office_id": office_id, "since": datetime.fromtimestamp(midnight, clock.zone(tz))}):
            taken.setdefault(counter, []).append(at.timestamp())
    out = {}
    for counter, pauses in coming.items():
        nxt = next(((at, n) for at, n in pauses if not any(abs(t - at) <= CLUSTER_S for t in taken.get(counter, ()))), None)
        if nxt is not None:
            out[counter] = nxt
    return out


def _usual(session: Session, office_id: int, day: date, now: datetime, tz: str) -> dict[int, list[UsualPause]]:
    key = (str(session.get_bind().url), office_id)
    hit = _cache.get(key)
    if hit is not None and hit[0] == day and 0 <= (now - hit[1]).total_seconds() < field_stats.STATS_TTL_S:
        return hit[2]
    usual = _read(session, office_id, day, tz)
    _cache[key] = (day, now, usual)
    return usual


def _read(session: Session, office_id: int, day: date, tz: str) -> dict[int, list[UsualPause]]:
    zone = clock.zone(tz)
    since = datetime.combine(day - timedelta(days=field_stats.RECENT_DAYS), datetime.min.time(), tzinfo=zone)
    until = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    worked: dict[int, set[date]] = {}
    pauses: dict[int, list[tuple[float, float]]] = {}  # (start, seconds after local midnight; length)
    paused_at: dict[int, datetime] = {}
    for counter, kind, at in _HISTORY.all(session.connection(), {"office_id": office_id, "since": since, "until": until}):
        if kind == "opened":
            worked.setdefault(counter, set()).add(clock.business_day(at, tz))
        elif kind == "paused":
            paused_at[counter] = at
        elif counter in paused_at:  # resumed or closed
            start = paused_at.pop(counter)
            local = clock.local(start, tz)
            if local.date() == clock.business_day(at, tz):  # a pause left over a night is not one
                midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
                pauses.setdefault(counter, []).append(((local - midnight).total_seconds(), (at - start).total_seconds()))
    return {c: found for c, ps in pauses.items() if (found := _clusters(sorted(ps), len(worked.get(c, ()))))}


def _clusters(pauses: list[tuple[float, float]], days: int) -> list[UsualPause]:
    """The usual pauses among a counter's pauses sorted by start time, over `days` days worked."""
    if not days:
        return []
    groups: list[list[tuple[float, float]]] = []
    for p in pauses:
        if groups and p[0] - groups[-1][-1][0] <= CLUSTER_S:
            groups[-1].append(p)
        else:
            groups.append([p])
    out = []
    for g in groups:
        share = min(len(g) / days, 1.0)
        if share >= MIN_DAYS_SHARE:
            out.append(UsualPause(statistics.median(s for s, _ in g), statistics.median(n for _, n in g) * share))
    return out
