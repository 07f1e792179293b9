"""What an office's last weeks really were, for staffing advice: citizens arriving per field,
weekday and hour (every queue leg, a transfer arrives in its target field), the service-time
statistics the estimator uses (`engine.field_stats`), and how many counters were really open
for each field in each hour, in counter-equivalents.

Counter-equivalents: a counter open for a whole hour counts 1, shared between its fields by its
share of the calls it made in the period (a counter that called 3 citizens of HT for every one
of TP counts 0.75 to HT and 0.25 to TP); paused time does not count. A counter that made no
call in the period is split equally between its fields."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.config import parse_span
from motcua.engine import clock
from motcua.engine.field_stats import field_stats
from motcua.models import Counter, CounterEvent, CounterService, Office, Service, TicketLeg

L = TicketLeg.__table__
Key = tuple[str, int, int]  # (field code, ISO weekday 1–7, local hour)


@dataclass
class FieldHistory:
    code: str
    name: str
    service_minutes: float
    mean_s: float
    var_s: float
    no_show: float
    priority_share: float
    from_history: bool
    issuing_windows: dict | None = None

    def lognormal_minutes(self) -> tuple[float, float]:
        """(median, p90) in minutes of the log-normal with this mean and variance."""
        from motcua.simulation.scenario import Z90

        sigma2 = math.log(1 + self.var_s / self.mean_s ** 2) if self.var_s > 0 else 0.01
        mu = math.log(self.mean_s) - sigma2 / 2
        median = math.exp(mu) / 60
        return median, max(math.exp(mu + Z90 * math.sqrt(sigma2)) / 60, median * 1.01)


@dataclass
class History:
    office_id: int
    start: date
    end: date
    days: dict[int, int]  # ISO weekday -> business days worked in the period
    fields: dict[str, FieldHistory]
    arrivals: dict[Key, int] = field(default_factory=dict)  # legs queued in that hour, all days summed
    open_s: dict[Key, float] = field(default_factory=dict)  # counter-seconds open for the field, all days summed

    def per_day(self, key: Key) -> tuple[float, float]:
        """(arrivals, counter-equivalents open) in that hour on an average day of its weekday."""
        n = self.days.get(key[1], 0)
        if not n:
            return 0.0, 0.0
        return self.arrivals.get(key, 0) / n, self.open_s.get(key, 0.0) / 3600 / n


def _open_intervals(events: list[tuple[str, datetime]], last_close: dict[date, datetime], tz: str):
    """A counter's open and not paused intervals from its ordered events; one left open at the
    day's end stops at that day's last working minute (a forgotten close must not count all night)."""
    since = None
    for kind, at in events:
        if kind in ("opened", "resumed"):
            if since is None:
                since = at
        elif kind in ("closed", "paused") and since is not None:
            if at > since:
                yield since, at
            since = None
        if since is not None:
            stop = last_close.get(clock.local(since, tz).date())
            if stop is not None and at > stop:
                yield since, stop
                since = None
    if since is not None:
        stop = last_close.get(clock.local(since, tz).date())
        if stop is not None and stop > since:
            yield since, stop


def _day_end(settings: dict, day: date, tz: str) -> datetime:
    spans = clock.spans_for(settings.get("working_hours"), day)
    end = time(23, 59)
    if spans:
        end = max(parse_span(s)[1] for s in spans)
    return datetime.combine(day, end, tzinfo=clock.zone(tz))


def read_history(session: Session, office: Office, start: date, end: date, now: datetime) -> History:
    """The office's business days [start, end]: arrivals, service statistics and open counters."""
    tz = office.timezone
    services = list(session.scalars(select(Service).where(Service.office_id == office.id, Service.active.is_(True))
                                    .order_by(Service.sort_order, Service.id)))
    code_of = {s.id: s.code for s in services}
    where = (L.c.office_id == office.id, L.c.business_day >= start, L.c.business_day <= end)

    worked = sorted(d for (d,) in session.execute(select(L.c.business_day).where(*where).distinct()))
    days: dict[int, int] = {}
    for d in worked:
        days[d.isoweekday()] = days.get(d.isoweekday(), 0) + 1

    arrivals: dict[Key, int] = {}
    legs, prio = dict.fromkeys(code_of, 0), dict.fromkeys(code_of, 0)
    for sid, queued, priority in session.execute(select(L.c.service_id, L.c.queued_at, L.c.priority).where(*where)):
        if sid not in code_of:
            continue
        here = clock.local(queued, tz)
        key = (code_of[sid], here.isoweekday(), here.hour)
        arrivals[key] = arrivals.get(key, 0) + 1
        legs[sid] += 1
        prio[sid] += bool(priority)

    fields = {}
    for s in services:
        st = field_stats(session, office.id, s.id, s.service_minutes, end + timedelta(days=1), now, tz=office.timezone)
        fields[s.code] = FieldHistory(s.code, s.name, s.service_minutes, st.mean_s, st.var_s, st.no_show,
                                      prio[s.id] / legs[s.id] if legs[s.id] else 0.0, st.from_history, s.issuing_windows)

    # Each counter's share of calls per field over the period (its fields split equally if none).
    calls: dict[int, dict[str, int]] = {}
    q = (select(L.c.counter_id, L.c.service_id, func.count()).where(*where, L.c.counter_id.is_not(None), L.c.called_at.is_not(None))
         .group_by(L.c.counter_id, L.c.service_id))
    for cid, sid, n in session.execute(q):
        if sid in code_of:
            calls.setdefault(cid, {})[code_of[sid]] = int(n)
    served_by: dict[int, list[str]] = {}
    for cid, sid in session.execute(select(CounterService.counter_id, CounterService.service_id)
                                    .join(Counter, Counter.id == CounterService.counter_id).where(Counter.office_id == office.id)):
        if sid in code_of:
            served_by.setdefault(cid, []).append(code_of[sid])
    shares: dict[int, dict[str, float]] = {}
    for cid in set(calls) | set(served_by):
        c = calls.get(cid)
        if c:
            total = sum(c.values())
            shares[cid] = {f: n / total for f, n in c.items()}
        elif served_by.get(cid):
            shares[cid] = {f: 1 / len(served_by[cid]) for f in served_by[cid]}

    settings = office.settings or {}
    last_close = {d: _day_end(settings, d, tz) for d in worked}
    lo = datetime.combine(start, time(0), tzinfo=clock.zone(tz))
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=clock.zone(tz))
    per_counter: dict[int, list[tuple[str, datetime]]] = {}
    q = (select(CounterEvent.counter_id, CounterEvent.kind, CounterEvent.at)
         .where(CounterEvent.office_id == office.id, CounterEvent.at >= lo, CounterEvent.at < hi)
         .order_by(CounterEvent.counter_id, CounterEvent.at, CounterEvent.id))
    for cid, kind, at in session.execute(q):
        per_counter.setdefault(cid, []).append((kind, at))
    worked_set = set(worked)
    open_s: dict[Key, float] = {}
    for cid, events in per_counter.items():
        share = shares.get(cid)
        if not share:
            continue
        for a, b in _open_intervals(events, last_close, tz):
            for day, hour, secs in clock.local_hours(a, b, tz):
                if day not in worked_set:
                    continue
                for f, part in share.items():
                    key = (f, day.isoweekday(), hour)
                    open_s[key] = open_s.get(key, 0.0) + secs * part
    return History(office.id, start, end, days, fields, arrivals, open_s)
