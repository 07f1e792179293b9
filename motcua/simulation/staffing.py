"""Staffing advice (`motcua staffing`, /manager/staffing): how many counters each field needs
each hour so that the p90 wait stays under the office's `wait_target_minutes`.

From the last weeks' history (`simulation.history`) a representative day per weekday is built
as a scenario (each field's mean arrivals per hour, its service-time distribution, priority and
no-show shares) and run through the simulator's own day runner (`simulation.runner`), so the
real engine and queue rule decide every call. Counters are modelled as counter-equivalents:
each field gets counters of its own in the simulation, so fields do not disturb one another and
each field is searched alone, re-simulating only that field. The search starts from the
counter-equivalents really open (at least enough for the queue to be stable), adds a counter
in each hour whose citizens waited too long, then takes one away in each hour with room to
spare and keeps the cut only if no hour of the field fails. Every setting tried is judged on the
same REPLICAS simulated days, their waits pooled (seeds per weekday and field), so two settings
meet the same citizens."""

from __future__ import annotations

import math
import random
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from motcua import stats
from motcua.config import Config, OfficeConfig, parse_span
from motcua.db import Database
from motcua.engine import clock, estimates
from motcua.migrate import upgrade
from motcua.models import Office, PriorityGroup, Service, TicketLeg
from motcua.seed import SETTING_KEYS
from motcua.simulation.history import FieldHistory, History, read_history
from motcua.simulation.runner import DayRunner, prepare
from motcua.simulation.scenario import FieldSpec, Scenario

DEFAULT_TARGET_MIN = 15
MAX_SIMS_PER_FIELD = 10
# Days simulated per setting tried, their waits pooled: one day's dozen citizens an hour are too
# few to judge a p90 by (a setting tuned to one draw fails on the next).
REPLICAS = 2
SLACK = 0.6  # an hour whose p90 is under 60 % of the target is tried with one counter fewer
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

    def fails(self, hour: int, target_s: float) -> bool:
        return self.unserved.get(hour, 0) > 0 or (self.p90_s.get(hour) or 0) > target_s


def target_minutes(office: Office) -> int:
    return int((office.settings or {}).get("wait_target_minutes") or DEFAULT_TARGET_MIN)


def _hour_coverage(spans: list[str] | None, hour: int) -> float:
    """Share of [hour:00, hour+1:00) inside the spans (None: no limit)."""
    if spans is None:
        return 1.0
    lo, hi = hour * 60, hour * 60 + 60
    covered = 0
    for span in spans:
        a, b = parse_span(span)
        a_m, b_m = a.hour * 60 + a.minute, (b.hour * 60 + b.minute if (b.hour, b.minute) != (23, 59) else 24 * 60)
        covered += max(0, min(hi, b_m) - max(lo, a_m))
    return covered / 60


def _pieces(spans: list[str], hours: list[int]) -> list[str]:
    """The working spans cut to the given hours, adjacent pieces merged, as HH:MM-HH:MM."""
    out: list[list[int]] = []
    for h in sorted(hours):
        for span in spans:
            a, b = parse_span(span)
            a_m, b_m = a.hour * 60 + a.minute, b.hour * 60 + b.minute
            lo, hi = max(a_m, h * 60), min(b_m, h * 60 + 60)
            if lo < hi:
                if out and out[-1][1] == lo:
                    out[-1][1] = hi
                else:
                    out.append([lo, hi])
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in sorted(out)]


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
    """One weekday's simulated days for one office, in one scratch database."""

    def __init__(self, db: Database, oc: OfficeConfig, office_id: int, desks: dict, weekday: int, first: date) -> None:
        self.db, self.oc, self.office_id, self.desks = db, oc, office_id, desks
        self.weekday, self.next_day, self.sims = weekday, first, 0
        self.numbers = {}  # field -> its counters' numbers
        for c in oc.counters:
            self.numbers.setdefault(next(iter(c.fields)), []).append(c.number)
        self.service_ids = {}

    def run(self, spec: FieldSpec, counts: dict[int, int], seed: int) -> Outcome:
        """REPLICAS days with these counters (citizens drawn from seed, seed + 1, …), waits pooled."""
        days = []
        for r in range(REPLICAS):
            day, self.next_day = self.next_day, self.next_day + timedelta(days=7)
            spans = clock.spans_for(self.oc.working_hours, day) or ["00:00-24:00"]
            counters = {}
            for k, number in enumerate(self.numbers[spec.service], start=1):
                counters[number] = _pieces(spans, [h for h, n in counts.items() if n >= k])
            sc = Scenario(office=self.oc.code, date=day, counters=counters, fields=[spec], seed=seed + r)
            DayRunner(self.db, self.office_id, self.oc, sc, self.desks, random.Random(seed + r)).run(day)
            days.append(day)
        self.sims += REPLICAS
        return self._outcome(spec.service, days)

    def _outcome(self, code: str, days: list[date]) -> Outcome:
        tz = self.oc.timezone
        with self.db.read() as s:
            if code not in self.service_ids:
                self.service_ids[code] = s.scalar(select(Service.id).where(Service.office_id == self.office_id, Service.code == code))
            rows = s.execute(select(L.c.queued_at, L.c.called_at).where(
                L.c.office_id == self.office_id, L.c.business_day.in_(days), L.c.service_id == self.service_ids[code])).all()
        waits: dict[int, list[int]] = {}
        unserved: dict[int, int] = {}
        for queued, called in rows:
            hour = clock.local(queued, tz).hour
            if called is None:
                unserved[hour] = unserved.get(hour, 0) + 1
            else:
                waits.setdefault(hour, []).append(round((called - queued).total_seconds() * 1000))
        p90 = {h: stats.ms_to_s(stats.p90(sorted(w))) for h, w in waits.items()}
        every = sorted([w for ws in waits.values() for w in ws] + [2 ** 40] * sum(unserved.values()))
        return Outcome(p90, unserved, stats.ms_to_s(stats.p90(every)))


def _spec(fh: FieldHistory, rates: dict[int, float]) -> FieldSpec:
    median, p90 = fh.lognormal_minutes()
    return FieldSpec(service=fh.code, arrivals_per_hour={f"{h:02d}": round(r, 3) for h, r in rates.items() if r > 0},
                     service_median_min=median, service_p90_min=p90, priority_share=min(fh.priority_share, 1.0),
                     no_show_share=min(fh.no_show, 0.9))


def _search_field(search: FieldSearch, spec: FieldSpec, fh: FieldHistory, hours: list[int], real: dict[int, float],
                  target_s: float, seed: int) -> tuple[dict[int, int], Outcome, bool]:
    """The fewest counters per hour (searched from the real number) that keep every hour's p90 under target."""
    cost = (1 - fh.no_show) * (fh.mean_s + WALK_S) + fh.no_show * 90
    rates = {h: spec.arrivals_per_hour.get(f"{h:02d}", 0.0) for h in hours}
    need = {h: math.floor(rates[h] * cost / 3600) + 1 if rates[h] > 0 else 0 for h in hours}
    # An hour with no arrivals still needs a counter while the hour before leaves people waiting.
    for i, h in enumerate(hours):
        if not need[h] and i and rates[hours[i - 1]] > 0:
            need[h] = 1
    floor_ = {h: 1 if need[h] else 0 for h in hours}
    cap = max(need.values(), default=0) + HEADROOM
    counts = {h: min(cap, max(need[h], round(real.get(h, 0.0)))) if need[h] else 0 for h in hours}
    best: tuple[dict[int, int], Outcome] | None = None
    keep: set[int] = set()  # hours whose cut failed once: their count does not go down again
    cut: list[int] = []
    last = None
    for _ in range(MAX_SIMS_PER_FIELD):
        last = search.run(spec, counts, seed)
        bad = [h for h in hours if need[h] and last.fails(h, target_s)]
        if cut:
            if bad:
                # Undo the cuts at or just before a failing hour (a queue left over spills into the next hour).
                undone = {c for c in cut if any(c <= h <= c + 1 for h in bad)} or set(cut)
                for c in undone:
                    counts[c] += 1
                    keep.add(c)
                cut = []
                continue  # verify the restored counts
            cut = []
        if bad:
            for h in bad:
                p = last.p90_s.get(h) or 0
                counts[h] = min(cap, counts[h] + (2 if p > 2 * target_s or last.unserved.get(h) else 1))
            if all(counts[h] >= cap for h in bad):
                break
            continue
        best = ({h: counts[h] for h in hours}, last)
        cut = []
        for h in hours:
            # Never two neighbours at once: a failing hour is then blamed on one cut (its own or the hour before's).
            if h not in keep and counts[h] > floor_[h] and (last.p90_s.get(h) or 0) <= SLACK * target_s and h - 1 not in cut:
                cut.append(h)
        if not cut:
            break
        for h in cut:
            counts[h] -= 1
    if best is not None:
        return best[0], best[1], True
    return {h: counts[h] for h in hours}, last, False


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
        for (_wd, code), (_spec, _hours, need_max, real) in plans.items():
            caps[code] = max(caps.get(code, 0), need_max + HEADROOM, math.ceil(max(real.values(), default=0)) + HEADROOM)
        oc = _office_config(s, office, caps) if caps else None
        out: dict[str, Any] = {"office": office.code, "office_name": office.name, "weeks": weeks, "target_p90_min": target,
                               "from": start.isoformat(), "to": end.isoformat(), "days": {str(k): v for k, v in sorted(hist.days.items())},
                               "fields": [{"code": f.code, "name": f.name, "service_mean_min": round(f.mean_s / 60, 2),
                                           "no_show_share": round(f.no_show, 3), "from_history": f.from_history}
                                          for f in hist.fields.values()],
                               "rows": [], "simulated_days": 0}
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
    out, hist, target_s = ctx.out, ctx.hist, ctx.target * 60
    if ctx.oc is None:
        return out
    with _scratch(ctx.oc, ctx.end) as (_db, search):
        used = set()
        for (wd, code), (spec, hours, _need, real) in sorted(ctx.plans.items()):
            used.add(search(wd))
            field_seed = zlib.crc32(f"{seed}:{wd}:{code}".encode())
            counts, outcome, met = _search_field(search(wd), spec, hist.fields[code], hours, real, target_s, field_seed)
            for h in hours:
                arrivals, _open = hist.per_day((code, wd, h))
                if not arrivals and not counts[h] and not real.get(h):
                    continue
                p90 = outcome.p90_s.get(h)
                out["rows"].append({"weekday": wd, "hour": h, "service": code, "arrivals": round(arrivals, 2),
                                    "real": round(real.get(h, 0.0), 2), "recommended": counts[h],
                                    "p90_min": None if p90 is None else round(p90 / 60, 1),
                                    "met": met and not outcome.fails(h, target_s)})
        out["simulated_days"] = sum(x.sims for x in used)
    out["rows"].sort(key=lambda r: (r["weekday"], r["service"], r["hour"]))
    return out


def recheck(db: Database, advice: dict[str, Any], seed: int, now: datetime | None = None) -> dict[str, float | None]:
    """Simulate each weekday and field again with the recommended counters and citizens drawn
    with another seed: {"<weekday>:<field>": p90 wait of the whole day in minutes}."""
    ctx = _context(db, advice["office"], advice["weeks"], advice["target_p90_min"], now or clock.now())
    recommended: dict[tuple[int, str], dict[int, int]] = {}
    for r in advice["rows"]:
        recommended.setdefault((r["weekday"], r["service"]), {})[r["hour"]] = r["recommended"]
    out: dict[str, float | None] = {}
    if ctx.oc is None:
        return out
    with _scratch(ctx.oc, ctx.end) as (_db, search):
        for (wd, code), (spec, hours, _need, _real) in sorted(ctx.plans.items()):
            counts = {h: recommended.get((wd, code), {}).get(h, 0) for h in hours}
            outcome = search(wd).run(spec, counts, zlib.crc32(f"{seed}:{wd}:{code}".encode()))
            out[f"{wd}:{code}"] = None if outcome.day_p90_s is None else round(outcome.day_p90_s / 60, 2)
    return out


def _plans(hist: History, settings: dict) -> dict[tuple[int, str], tuple[FieldSpec, list[int], int, dict[int, float]]]:
    """Per (weekday, field) with arrivals: the scenario's field, the working hours, the most
    counters any hour strictly needs, and the counter-equivalents really open per hour."""
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
            spec = _spec(fh, rates)
            cost = (1 - fh.no_show) * (fh.mean_s + WALK_S) + fh.no_show * 90
            need_max = max(math.floor(r * cost / 3600) + 1 for r in rates.values())
            plans[(wd, code)] = (spec, hours, need_max, real)
    return plans

