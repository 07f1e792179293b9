"""Staffing advice (`motcua staffing`, /manager/staffing): how many counters each field needs
each hour so that the p90 wait stays under the office's `wait_target_minutes`.

From the last weeks' history (`simulation.history`) a representative day per weekday is built
(each field's mean arrivals per hour, its service-time distribution, priority and no-show
shares). Counters are modelled as counter-equivalents: each field gets counters of its own, so
fields do not disturb one another and each (weekday, field) is searched alone.

The search judges a setting by what is checked afterwards, the p90 wait of the field's whole
day, with a citizen still waiting when the counters close counting as waiting forever: a
setting holds when that p90 stays under the target on at least HOLD of MODEL_DAYS simulated
days, and each hour's p90 over those days does too. So many days per setting are affordable
because they run through `simulation.fast_queue`, the same citizens and queue rule without the
database. The search is monotone: it starts from the counters each hour needs for the queue to
be stable and adds one counter at a time in the hour where most citizens' waits pass the target
(for a queue left at the lunch break, the last hour before it). The setting found is then run
through the engine's own day runner (`simulation.runner`) on REPLICAS days of other citizens;
where the engine still misses, a counter is added the same way and the engine runs again."""

from __future__ import annotations

import math
import random
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from motcua import stats
from motcua.config import Config, OfficeConfig
from motcua.db import Database
from motcua.engine import clock, estimates
from motcua.migrate import upgrade
from motcua.models import Office, PriorityGroup, Service, TicketLeg
from motcua.seed import SETTING_KEYS
from motcua.simulation import fast_queue as fq
from motcua.simulation.history import FieldHistory, History, read_history
from motcua.simulation.runner import DayRunner, prepare
from motcua.simulation.scenario import FieldSpec, Scenario

DEFAULT_TARGET_MIN = 15
# Days per setting in the fast model: one day's dozen citizens an hour are too few to judge a
# p90 by (a setting tuned to one draw fails on the next).
MODEL_DAYS = 60
HOLD = 0.95  # share of those days whose field-day p90 must stay under the target
# Engine days per confirmation (their waits pooled), and how often a miss there adds a counter.
REPLICAS = 2
CONFIRM_ROUNDS = 3
HEADROOM = 6  # counters a field may get above what its busiest hour strictly needs
WALK_S = 30.0
L = TicketLeg.__table__


class StaffingError(Exception):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en


@dataclass
class Outcome:
    p90_s: dict[int, float | None]  # hour -> p90 wait of the citizens who arrived in it
    unserved: dict[int, int]  # hour -> citizens still waiting at the day's end
    day_p90_s: float | None = None  # over every citizen of the day (one never called counts as waiting forever)
    late: dict[int, int] = field(default_factory=dict)  # hour -> citizens whose wait passed the target in it

    def fails(self, hour: int, target_s: float) -> bool:
        return self.unserved.get(hour, 0) > 0 or (self.p90_s.get(hour) or 0) > target_s

    def holds(self, target_s: float) -> bool:
        hours = set(self.p90_s) | set(self.unserved)
        return (self.day_p90_s or 0) <= target_s and not any(self.fails(h, target_s) for h in hours)


@dataclass
class Plan:
    """One weekday's representative day of one field."""

    spec: FieldSpec
    hours: list[int]  # the office's working hours that day
    need: dict[int, int]  # hour -> counters for its queue to be stable (the search's start)
    real: dict[int, float]  # hour -> counter-equivalents really open
    day: date  # a date of that weekday, for the calendar of the simulated day
    working: fq.Spans
    windows: fq.Spans | None  # issuing windows (None: tickets all day)

    @property
    def need_max(self) -> int:
        return max(self.need.values(), default=0)


def target_minutes(office: Office) -> int:
    return int((office.settings or {}).get("wait_target_minutes") or DEFAULT_TARGET_MIN)


def _hour_coverage(spans: list[str] | None, hour: int) -> float:
    """Share of [hour:00, hour+1:00) inside the spans (None: no limit)."""
    if spans is None:
        return 1.0
    return sum(max(0, min(hour * 3600 + 3600, b) - max(hour * 3600, a)) for a, b in fq.seconds(spans)) / 3600


def _counter_spans(working: fq.Spans, counts: dict[int, int]) -> list[fq.Spans]:
    """Counter k (from 1) works the working spans of the hours with at least k counters, adjacent pieces merged."""
    out = []
    for k in range(1, max(counts.values(), default=0) + 1):
        pieces: fq.Spans = []
        for h in sorted(h for h, n in counts.items() if n >= k):
            for a, b in working:
                lo, hi = max(a, h * 3600), min(b, h * 3600 + 3600)
                if lo < hi:
                    if pieces and pieces[-1][1] == lo:
                        pieces[-1] = (pieces[-1][0], hi)
                    else:
                        pieces.append((lo, hi))
        out.append(pieces)
    return out


def _hhmm(spans: fq.Spans) -> list[str]:
    def fmt(t: float) -> str:
        return "24:00" if t >= 24 * 3600 else f"{int(t) // 3600:02d}:{int(t) % 3600 // 60:02d}"

    return [f"{fmt(a)}-{fmt(b)}" for a, b in spans]


def _office_config(session, office: Office, caps: dict[str, int]) -> OfficeConfig:
    """The office as it is in the database, with counters of the simulation's own: `caps[f]` per field."""
    settings = office.settings or {}
    data: dict[str, Any] = {k: settings[k] for k in SETTING_KEYS if k in settings and k in OfficeConfig.model_fields}
    data.update(code=office.code, name=office.name, timezone=office.timezone, holidays=[])
    services = session.scalars(select(Service).where(Service.office_id == office.id, Service.active.is_(True)).order_by(Service.sort_order, Service.id))
    data["fields"] = [{"code": s.code, "name": s.name, "prefix": s.prefix, "start": s.start_number, "digits": s.digits,
                       "service_minutes": s.service_minutes, "issuing_windows": s.issuing_windows} for s in services]
    if data.get("results_service") not in {f["code"] for f in data["fields"]}:
        data.pop("results_service", None)
    groups = session.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id, PriorityGroup.active.is_(True)))
    data["priority_groups"] = [{"code": g.code, "name": g.name} for g in groups]
    counters, number = [], 0
    for code in sorted(caps):
        for _ in range(caps[code]):
            number += 1
            counters.append({"number": number, "fields": {code: 1}})
    data["counters"] = counters
    return OfficeConfig.model_validate(data)


def _day_for(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.isoweekday()) % 7 or 7)


class FieldSearch:
    """One weekday's days simulated through the engine for one office, in one scratch database."""

    def __init__(self, db: Database, oc: OfficeConfig, office_id: int, desks: dict, weekday: int, first: date) -> None:
        self.db, self.oc, self.office_id, self.desks = db, oc, office_id, desks
        self.weekday, self.next_day, self.sims = weekday, first, 0
        self.numbers = {}  # field -> its counters' numbers
        for c in oc.counters:
            self.numbers.setdefault(next(iter(c.fields)), []).append(c.number)
        self.service_ids = {}

    def working(self, day: date) -> fq.Spans:
        return fq.seconds(clock.spans_for(self.oc.working_hours, day) or ["00:00-24:00"])

    def run(self, spec: FieldSpec, counts: dict[int, int], seed: int, target_s: float | None = None) -> Outcome:
        """REPLICAS days with these counters (citizens drawn from seed, seed + 1, …), waits pooled."""
        days = []
        for r in range(REPLICAS):
            day, self.next_day = self.next_day, self.next_day + timedelta(days=7)
            shifts = _counter_spans(self.working(day), counts)
            counters = {number: _hhmm(shifts[k]) if k < len(shifts) else [] for k, number in enumerate(self.numbers[spec.service])}
            sc = Scenario(office=self.oc.code, date=day, counters=counters, fields=[spec], seed=seed + r)
            DayRunner(self.db, self.office_id, self.oc, sc, self.desks, random.Random(seed + r)).run(day)
            days.append(day)
        self.sims += REPLICAS
        return self._outcome(spec.service, days, target_s)

    def _outcome(self, code: str, days: list[date], target_s: float | None) -> Outcome:
        tz = self.oc.timezone
        with self.db.read() as s:
            if code not in self.service_ids:
                self.service_ids[code] = s.scalar(select(Service.id).where(Service.office_id == self.office_id, Service.code == code))
            rows = s.execute(select(L.c.queued_at, L.c.called_at).where(
                L.c.office_id == self.office_id, L.c.business_day.in_(days), L.c.service_id == self.service_ids[code])).all()
        waits: dict[int, list[int]] = {}
        unserved: dict[int, int] = {}
        late: dict[int, int] = {}
        working = self.working(days[0])
        for queued, called in rows:
            here = clock.local(queued, tz)
            hour = here.hour
            if called is None:
                unserved[hour] = unserved.get(hour, 0) + 1
            else:
                waits.setdefault(hour, []).append(round((called - queued).total_seconds() * 1000))
            if target_s is not None and (called is None or (called - queued).total_seconds() > target_s):
                h = fq.crossing_hour(hour * 3600 + here.minute * 60 + here.second, target_s, working)
                late[h] = late.get(h, 0) + 1
        p90 = {h: stats.ms_to_s(stats.p90(sorted(w))) for h, w in waits.items()}
        every = sorted([w for ws in waits.values() for w in ws] + [2 ** 40] * sum(unserved.values()))
        return Outcome(p90, unserved, stats.ms_to_s(stats.p90(every)), late)


def _spec(fh: FieldHistory, rates: dict[int, float]) -> FieldSpec:
    median, p90 = fh.lognormal_minutes()
    return FieldSpec(service=fh.code, arrivals_per_hour={f"{h:02d}": round(r, 3) for h, r in rates.items() if r > 0},
                     service_median_min=median, service_p90_min=p90, priority_share=min(fh.priority_share, 1.0),
                     no_show_share=min(fh.no_show, 0.9))


def _judge(days: list[fq.Citizens], counters: list[fq.Spans], ratio: int, target_s: float,
           working: fq.Spans) -> tuple[bool, dict[int, int]]:
    """Whether a setting holds on the model's days (see the module's docstring), and per hour
    the citizens whose wait passed the target in it."""
    by_hour: dict[int, list[float]] = {}
    late: dict[int, int] = {}
    held = 0
    for citizens in days:
        waits = [math.inf if w is None else w for w in fq.run(citizens, counters, ratio)]
        held += not waits or stats.p90(sorted(waits)) <= target_s
        for t, w in zip(citizens.arrive_s, waits, strict=True):
            by_hour.setdefault(int(t // 3600), []).append(w)
            if w > target_s:
                h = fq.crossing_hour(t, target_s, working)
                late[h] = late.get(h, 0) + 1
    ok = held >= HOLD * len(days) and all(stats.p90(sorted(w)) <= target_s for w in by_hour.values())
    return ok, late


def _add_counter(counts: dict[int, int], late: dict[int, int], cap: int) -> bool:
    """One counter more in the hour where most waits passed the target (False: none can be added)."""
    for h in sorted(late, key=lambda h: (-late[h], h)):
        if h in counts and counts[h] < cap:
            counts[h] += 1
            return True
    return False


def _search_field(plan: Plan, oc: OfficeConfig, target_s: float, cap: int, seed: int) -> dict[int, int]:
    """The counters per hour the fast model finds enough, from those a stable queue needs up."""
    groups = [g.code for g in oc.priority_groups]
    days = [fq.draw(plan.spec, plan.day, oc.timezone, groups, plan.windows, seed + i) for i in range(MODEL_DAYS)]
    counts = dict(plan.need)
    while True:
        ok, late = _judge(days, _counter_spans(plan.working, counts), oc.priority_ratio, target_s, plan.working)
        if ok or not _add_counter(counts, late, cap):
            return counts


@dataclass
class Context:
    office_code: str
    start: date
    end: date
    target: float
    hist: History
    plans: dict
    oc: OfficeConfig | None
    out: dict[str, Any]


def _context(db: Database, office_code: str, weeks: int, target_min: float | None, now: datetime) -> Context:
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == office_code))
        if office is None:
            raise StaffingError(f"Không có đơn vị '{office_code}'", f"No office '{office_code}'")
        today = clock.business_day(now, office.timezone)
        start, end = today - timedelta(days=7 * weeks), today - timedelta(days=1)
        target = float(target_min if target_min is not None else target_minutes(office))
        hist = read_history(s, office, start, end, now)
        plans = _plans(hist, office.settings or {})
        caps: dict[str, int] = {}
        for (_wd, code), plan in plans.items():
            caps[code] = max(caps.get(code, 0), plan.need_max + HEADROOM, math.ceil(max(plan.real.values(), default=0)) + HEADROOM)
        oc = _office_config(s, office, caps) if caps else None
        out: dict[str, Any] = {"office": office.code, "office_name": office.name, "weeks": weeks, "target_p90_min": target,
                               "from": start.isoformat(), "to": end.isoformat(), "days": {str(k): v for k, v in sorted(hist.days.items())},
                               "fields": [{"code": f.code, "name": f.name, "service_mean_min": round(f.mean_s / 60, 2),
                                           "no_show_share": round(f.no_show, 3), "from_history": f.from_history}
                                          for f in hist.fields.values()],
                               "rows": [], "simulated_days": 0, "model_days": 0}
    return Context(office_code, start, end, target, hist, plans, oc, out)


@contextmanager
def _scratch(oc: OfficeConfig, end: date) -> Iterator[tuple[Database, Callable[[int], FieldSearch]]]:
    """A temporary SQLite database with the office and its simulated counters; one FieldSearch per weekday."""
    tmp = Path(tempfile.mkdtemp(prefix="motcua-staffing-"))
    url = f"sqlite:///{tmp / 'staffing.db'}"
    sim_db = Database(url)
    try:
        upgrade(sim_db.engine)
        estimates.forget_database(str(sim_db.engine.url))
        office_id, desks = prepare(sim_db, Config(offices=[oc]), oc.code)
        searches: dict[int, FieldSearch] = {}

        def search(wd: int) -> FieldSearch:
            if wd not in searches:
                searches[wd] = FieldSearch(sim_db, oc, office_id, desks, wd, _day_for(wd, end + timedelta(days=7 * 52)))
            return searches[wd]

        yield sim_db, search
    finally:
        sim_db.dispose()
        estimates.forget_database(url)
        shutil.rmtree(tmp, ignore_errors=True)


def advise(db: Database, office_code: str, weeks: int = 4, target_min: float | None = None, now: datetime | None = None,
           seed: int = 1) -> dict[str, Any]:
    """Staffing advice for the office from its last `weeks` weeks (business days before today)."""
    ctx = _context(db, office_code, weeks, target_min, now or clock.now())
    out, target_s = ctx.out, ctx.target * 60
    if ctx.oc is None:
        return out
    with _scratch(ctx.oc, ctx.end) as (_db, search):
        used = set()
        for (wd, code), plan in sorted(ctx.plans.items()):
            engine = search(wd)
            used.add(engine)
            field_seed = zlib.crc32(f"{seed}:{wd}:{code}".encode())
            cap = min(plan.need_max + HEADROOM, len(engine.numbers[code]))
            counts = _search_field(plan, ctx.oc, target_s, cap, field_seed)
            out["model_days"] += MODEL_DAYS
            # The engine meets citizens the model has not (seeds past the model's days).
            outcome = engine.run(plan.spec, counts, field_seed + MODEL_DAYS, target_s)
            for _ in range(CONFIRM_ROUNDS):
                if outcome.holds(target_s) or not _add_counter(counts, outcome.late, cap):
                    break
                outcome = engine.run(plan.spec, counts, field_seed + MODEL_DAYS, target_s)
            met = (outcome.day_p90_s or 0) <= target_s
            for h in plan.hours:
                arrivals, _open = ctx.hist.per_day((code, wd, h))
                if not arrivals and not counts[h] and not plan.real.get(h):
                    continue
                p90 = outcome.p90_s.get(h)
                out["rows"].append({"weekday": wd, "hour": h, "service": code, "arrivals": round(arrivals, 2),
                                    "real": round(plan.real.get(h, 0.0), 2), "recommended": counts[h],
                                    "p90_min": None if p90 is None else round(p90 / 60, 1),
                                    "met": met and not outcome.fails(h, target_s)})
        out["simulated_days"] = sum(x.sims for x in used)
    out["rows"].sort(key=lambda r: (r["weekday"], r["service"], r["hour"]))
    return out


def recheck(db: Database, advice: dict[str, Any], seed: int, now: datetime | None = None) -> dict[str, float | None]:
    """Simulate each weekday and field again through the engine with the recommended counters and
    citizens drawn with another seed: {"<weekday>:<field>": p90 wait of the whole day in minutes}."""
    ctx = _context(db, advice["office"], advice["weeks"], advice["target_p90_min"], now or clock.now())
    recommended: dict[tuple[int, str], dict[int, int]] = {}
    for r in advice["rows"]:
        recommended.setdefault((r["weekday"], r["service"]), {})[r["hour"]] = r["recommended"]
    out: dict[str, float | None] = {}
    if ctx.oc is None:
        return out
    with _scratch(ctx.oc, ctx.end) as (_db, search):
        for (wd, code), plan in sorted(ctx.plans.items()):
            counts = {h: recommended.get((wd, code), {}).get(h, 0) for h in plan.hours}
            outcome = search(wd).run(plan.spec, counts, zlib.crc32(f"{seed}:{wd}:{code}".encode()))
            out[f"{wd}:{code}"] = None if outcome.day_p90_s is None else round(outcome.day_p90_s / 60, 2)
    return out


def _plans(hist: History, settings: dict) -> dict[tuple[int, str], Plan]:
    """Per (weekday, field) with arrivals: its representative day."""
    plans = {}
    for wd in sorted(hist.days):
        day = _day_for(wd, hist.end)
        spans = clock.spans_for(settings.get("working_hours"), day) or ["00:00-24:00"]
        hours = sorted({h for h in range(24) if _hour_coverage(spans, h) > 0})
        for code, fh in hist.fields.items():
            windows = clock.spans_for(fh.issuing_windows, day) if fh.issuing_windows else None
            if windows is None:
                windows = clock.spans_for(settings.get("issuing_windows"), day)
            rates, real = {}, {}
            for h in hours:
                arrivals, open_ce = hist.per_day((code, wd, h))
                cover = _hour_coverage(windows, h)
                # Citizens came only while tickets were issued: the simulated hour spreads them over its open part.
                rates[h] = arrivals / cover if cover > 0 else arrivals
                if open_ce:
                    real[h] = open_ce
            if not any(rates.values()):
                continue
            cost = (1 - fh.no_show) * (fh.mean_s + WALK_S) + fh.no_show * 90
            need = {h: math.floor(rates[h] * cost / 3600) + 1 if rates[h] > 0 else 0 for h in hours}
            # An hour with no arrivals still needs a counter while the hour before leaves people waiting.
            for i, h in enumerate(hours):
                if not need[h] and i and rates[hours[i - 1]] > 0:
                    need[h] = 1
            plans[(wd, code)] = Plan(_spec(fh, rates), hours, need, real, day, fq.seconds(spans),
                                     None if windows is None else fq.seconds(windows))
    return plans
