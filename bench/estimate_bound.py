"""How often could any estimate be right? An oracle's bound on the bundled days.

    python -m bench.estimate_bound [--samples K] [--seeds N | --week] [--tickets M] [SCENARIO.toml ...]

When a ticket is issued its call time is still random: the services of those ahead and of those
in hand, the newcomers who overtake (priority citizens, a heavier field on a shared counter),
who turns out to be absent. This benchmark plays a scenario's day in memory with the day
runner's clerks (`simulation.runner`) and the engine's own queue rule (`queue_order.pick_at`),
and at a ticket's issue draws K continuations of the day from that exact state, knowing more than
any estimator may: the true service-time distributions, the true arrival rates, the pauses to
come and who is absent among those already called. Only what nobody can know yet is drawn: the
services of those waiting, the rest of the services in hand, the newcomers. The range of the
allowed width (whole minutes, ends included, at most 10 minutes or 40 % of its middle) that holds
most of the K calls is the best an estimate can do for that citizen; its mean over the tickets
is the share of citizens an estimate of that width could at best call within range.

The in-memory day follows the runner step for step and draws from the same random stream, so
for the scenario's own seed it is the very day `motcua simulate` plays (the table shows both).
That day is also played by the engine, and the range it printed on each evaluated ticket is held
against the same K calls: the estimator's expected share, which one day's real calls (the share
`bench.estimates` reports) only sample. With --week the days are the second to the fifth of the
scenario's own seed, each played after the days before it, as `bench.estimates --week` plays them.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import math
import random
import shutil
import statistics
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from bench.estimates import WEEK
from bench.report import pct, write_section
from motcua.config import OfficeConfig, parse_span
from motcua.db import Database
from motcua.engine import clock, queue_order
from motcua.engine.queue_order import Head
from motcua.models import Ticket, TicketLeg
from motcua.simulation.arrivals import arrivals, service_time
from motcua.simulation.runner import NO_SHOW_WAIT_S, WALK_S
from motcua.simulation.scenario import FieldSpec, Scenario, load_scenario
from motcua.simulation.simulate import business_days, run_scenario
from motcua.stats import p90

SCENARIOS = Path(__file__).parent / "scenarios"
T, L = Ticket.__table__, TicketLeg.__table__
WIDTH_MIN, WIDTH_SHARE = 10, 0.4  # the goal's width: at most 10 minutes or 40 % of the range's middle


@dataclass
class Person:
    id: int
    field: str
    prio: bool
    key: float  # the queue key: issued at, or where a transfer put them
    issued: float
    service_s: float
    absent: bool
    transfer: bool
    second_s: float | None = None  # the service in the field they were sent on to


@dataclass
class Desk:
    number: int
    weights: dict[str, float]
    state: str = "closed"  # closed | idle | called | serving | paused
    closing: bool = False
    pause_min: float = 0.0
    person: Person | None = None
    streak: int = 0
    started: float = 0.0
    done_seq: int = -1  # the pending "done" event of the service in hand


def _spans(day: date, tz: str, spans: list[str]) -> list[tuple[float, float]]:
    out = []
    for span in spans:
        a, b = parse_span(span)
        start = datetime.combine(day, a, tzinfo=clock.zone(tz)).timestamp()
        out.append((start, datetime.combine(day, b, tzinfo=clock.zone(tz)).timestamp()))
    return out


class Day:
    """One office day in memory: the runner's events on the engine's queue rule."""

    def __init__(self, sc: Scenario, oc: OfficeConfig, day: date, rng: random.Random) -> None:
        self.sc, self.oc, self.day, self.rng = sc, oc, day, rng
        self.tz = oc.timezone
        self.ratio = int(oc.priority_ratio)
        self.specs = {f.service: f for f in sc.fields}
        self.groups = [g.code for g in oc.priority_groups]
        weights = {c.number: dict(c.fields) for c in oc.counters}
        self.desks = {n: Desk(n, weights[n]) for n in sc.counters}
        office_windows = clock.spans_for(oc.issuing_windows, day) or clock.spans_for(oc.working_hours, day) or []
        self.windows = {}
        for f in oc.fields:
            own = clock.spans_for(f.issuing_windows, day) if f.issuing_windows is not None else None
            self.windows[f.code] = _spans(day, self.tz, own if own is not None else office_windows)
        self.waiting: dict[tuple[str, bool], deque[Person]] = {}
        self.heap: list[tuple[float, int, str, tuple]] = []
        self.seq = itertools.count()
        self.ids = itertools.count(1)
        self.called: dict[int, float] = {}  # person id -> first call (s since epoch)
        self.people: list[Person] = []  # issued, in order
        self.watch: int | None = None  # stop once this person is called
        self.stop_at_issue = False

    # ---- the clock ---------------------------------------------------------------------

    def at(self, ts: float, kind: str, *args: object) -> int:
        seq = next(self.seq)
        # The runner's moments are datetimes: whole microseconds.
        heapq.heappush(self.heap, (round(ts * 1e6) / 1e6, seq, kind, args))
        return seq

    def schedule(self) -> None:
        """The runner's first events in the runner's order: counters' spans, pauses, arrivals."""
        for number, spans in self.sc.counters.items():
            for start, end in _spans(self.day, self.tz, spans):
                self.at(start, "open", number)
                self.at(end, "close", number)
        for p in self.sc.pauses:
            self.at(datetime.combine(self.day, p.at_time, tzinfo=clock.zone(self.tz)).timestamp(), "pause", p.counter, p.minutes)
        for spec in self.sc.fields:
            for c in arrivals(self.rng, spec, self.day, self.tz, self.groups):
                self.at(c.at.timestamp(), "arrive", spec.service, c.priority is not None, c.service_s, c.absent, c.transfer)

    def run(self, on_issue=None) -> None:
        while self.heap:
            ts, _, kind, args = heapq.heappop(self.heap)
            issued = len(self.people)
            getattr(self, "_" + kind)(ts, *args)
            if on_issue is not None and len(self.people) > issued:
                on_issue(self)
            if self.watch is not None and self.watch in self.called:
                return

    # ---- the runner's clerks on the engine's rule ---------------------------------------------

    def _arrive(self, ts: float, field: str, prio: bool, service_s: float, absent: bool, transfer: bool) -> None:
        if not any(a <= ts < b for a, b in self.windows[field]):
            return
        p = Person(next(self.ids), field, prio, ts, ts, service_s, absent, transfer)
        self.people.append(p)
        self.waiting.setdefault((field, prio), deque()).append(p)
        self._wake(ts, field)

    def _wake(self, ts: float, field: str) -> None:
        for desk in self.desks.values():
            if desk.state == "idle" and field in desk.weights:
                self._call(desk, ts)

    def _call(self, desk: Desk, ts: float) -> None:
        heads = [Head(f, prio, q[0].key) for (f, prio), q in self.waiting.items() if q and f in desk.weights]
        head = queue_order.pick_at(heads, desk.weights, desk.streak, self.ratio, ts)
        if head is None:
            desk.state = "idle"
            return
        p = self.waiting[(head.service_id, head.priority)].popleft()
        desk.streak = queue_order.streak_after(desk.streak, head.priority)
        desk.person, desk.state = p, "called"
        self.called.setdefault(p.id, ts)
        if p.absent and p.second_s is None:
            self.at(ts + NO_SHOW_WAIT_S, "absent", desk.number)
        else:
            self.at(ts + self.rng.uniform(*WALK_S), "start", desk.number)

    def _start(self, ts: float, number: int) -> None:
        desk = self.desks[number]
        desk.state, desk.started = "serving", ts
        p = desk.person
        desk.done_seq = self.at(ts + (p.second_s or p.service_s), "done", number)

    def _done(self, ts: float, number: int) -> None:
        desk = self.desks[number]
        p = desk.person
        spec = self.specs[p.field]
        if p.transfer and spec.transfer_to and p.second_s is None:
            target = self.specs.get(spec.transfer_to)
            p.second_s = service_time(self.rng, target) if target else p.service_s
            head = min((q[0].key for (f, _), q in self.waiting.items() if q and f == spec.transfer_to), default=None)
            p.field = spec.transfer_to
            p.key = queue_order.join_key(self.oc.transfer_position, head, datetime.fromtimestamp(ts, clock.zone(self.tz)))
            q = self.waiting.setdefault((p.field, p.prio), deque())
            if q and p.key < q[0].key:
                q.appendleft(p)
            else:
                q.append(p)
            self._after(desk, ts)
            self._wake(ts, p.field)
            return
        self._after(desk, ts)

    def _absent(self, ts: float, number: int) -> None:
        self._after(self.desks[number], ts)

    def _after(self, desk: Desk, ts: float) -> None:
        desk.person, desk.state = None, "idle"
        if desk.closing:
            desk.closing = False
            self._close(ts, desk.number)
        elif desk.pause_min:
            self._pause(ts, desk.number, desk.pause_min)
        else:
            self._call(desk, ts)

    def _open(self, ts: float, number: int) -> None:
        desk = self.desks[number]
        if desk.state != "closed":
            desk.closing = False
            return
        desk.state = "idle"
        self._call(desk, ts)

    def _close(self, ts: float, number: int) -> None:
        desk = self.desks[number]
        if desk.state in ("called", "serving"):
            desk.closing = True
            return
        desk.state, desk.pause_min = "closed", 0.0

    def _pause(self, ts: float, number: int, minutes: float) -> None:
        desk = self.desks[number]
        if desk.state in ("called", "serving"):
            desk.pause_min = minutes
            return
        if desk.state != "idle":
            return
        desk.pause_min = 0.0
        desk.state = "paused"
        self.at(ts + minutes * 60, "resume", number)

    def _resume(self, ts: float, number: int) -> None:
        desk = self.desks[number]
        if desk.state == "paused":
            desk.state = "idle"
            self._call(desk, ts)

    # ---- an oracle's continuation ----------------------------------------------------------

    def branch(self, now: float, watch: int, rng: random.Random) -> Day:
        """The day from `now` on, with what is unknown at `now` drawn afresh from the true laws."""
        twin = object.__new__(Day)
        twin.__dict__.update(self.__dict__)
        twin.rng, twin.watch, twin.called, twin.people = rng, watch, {}, []
        twin.seq = itertools.count(next(self.seq) + 1)
        twin.ids = itertools.count(10 ** 9)
        fresh = {}

        def redraw(p: Person) -> Person:
            if p.id not in fresh:
                spec = self.specs[p.field]
                if p.second_s is None:
                    fresh[p.id] = replace(p, service_s=service_time(rng, spec), absent=rng.random() < spec.no_show_share,
                                          transfer=rng.random() < spec.transfer_share)
                else:
                    fresh[p.id] = replace(p, second_s=service_time(rng, spec))
            return fresh[p.id]

        twin.waiting = {k: deque(redraw(p) for p in q) for k, q in self.waiting.items()}
        twin.desks = {}
        heap = []
        for d in self.desks.values():
            nd = replace(d)
            if d.state == "called":
                nd.person = redraw(d.person) if not d.person.absent else d.person  # absence already seen
            elif d.state == "serving":
                nd.person = replace(d.person)
            twin.desks[d.number] = nd
        for ts, seq, kind, args in self.heap:
            if kind == "arrive":
                continue
            if kind == "done" and seq == self.desks[args[0]].done_seq:
                d = self.desks[args[0]]
                spec = self.specs[d.person.field]
                ts = d.started + _rest(rng, spec, now - d.started)
            heap.append((ts, seq, kind, args))
        twin.heap = heap
        for spec in self.sc.fields:
            twin._newcomers(spec, now, rng)
        heapq.heapify(twin.heap)
        return twin

    def _newcomers(self, spec: FieldSpec, now: float, rng: random.Random) -> None:
        """The field's arrivals after `now`: Poisson at each hour's rate, with what each brings."""
        midnight = datetime.combine(self.day, time(0), tzinfo=clock.zone(self.tz)).timestamp()
        for hour, rate in spec.arrivals_per_hour.items():
            start = midnight + int(hour) * 3600
            if rate <= 0 or start + 3600 <= now:
                continue
            t = max(start, now) + rng.expovariate(rate / 3600)
            while t < start + 3600:
                prio = bool(self.groups) and rng.random() < spec.priority_share
                self.heap.append((t, next(self.seq), "arrive", (spec.service, prio, service_time(rng, spec),
                                                               rng.random() < spec.no_show_share, rng.random() < spec.transfer_share)))
                t += rng.expovariate(rate / 3600)


def _rest(rng: random.Random, spec: FieldSpec, elapsed: float) -> float:
    """A log-normal service that has already lasted `elapsed` seconds: drawn beyond it."""
    dist = statistics.NormalDist(spec.mu, spec.sigma)
    lo = dist.cdf(math.log(max(elapsed, 1e-9)))
    u = lo + (1 - lo) * rng.random()
    return math.exp(dist.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))) if lo < 1 - 1e-9 else elapsed + 1.0


def best_range(waits_min: list[float]) -> tuple[int, int, float]:
    """The whole-minute range [low, high] of the allowed width that holds the most waits, and that share."""
    xs = sorted(waits_min)
    n = len(xs)
    best = (0, WIDTH_MIN, 0.0)
    for low in range(0, int(xs[-1]) + 1 if xs else 1):
        high = max(low + WIDTH_MIN, math.floor(low * (1 + WIDTH_SHARE / 2) / (1 - WIDTH_SHARE / 2) + 1e-9))
        share = (bisect.bisect_right(xs, high) - bisect.bisect_left(xs, low)) / n
        if share > best[2]:
            best = (low, high, share)
    return best


def play(sc: Scenario, oc: OfficeConfig, seed: int, nth: int = 0, on_issue=None) -> Day:
    """The scenario's `nth` business day (0: the first) in memory, the days before it played first
    from the same random stream, as `motcua simulate` plays them in a row."""
    rng = random.Random(seed)
    for n, d in enumerate(business_days(oc, sc.date, nth + 1)):
        day = Day(sc, oc, d, rng)
        day.schedule()
        day.run(on_issue if n == nth else None)
    return day


def bound(path: Path, seed: int, samples: int, max_tickets: int, nth: int = 0) -> dict:
    """The best share on the scenario's `nth` business day, and the estimator's expected share."""
    sc, config, _ = load_scenario(path)
    oc = next(o for o in config.offices if o.code == sc.office)
    real = play(sc, oc, seed, nth)
    # Every k-th ticket, so that a big day's bound takes minutes; the day is played again to each.
    k = max(1, math.ceil(len(real.people) / max_tickets))
    chosen = {p.id for i, p in enumerate(real.people) if i % k == 0}
    shares: list[float] = []
    drawn_by: dict[int, list[float]] = {}  # person id (their place in the day's issuing) -> drawn waits (min)
    branch_rng = random.Random(seed * 7919 + 1 + 7 * nth)  # draws of their own for each day of a week

    def at_issue(d: Day) -> None:
        p = d.people[-1]
        if p.id not in chosen:
            return
        if p.id in d.called:  # a free counter called them at once: a range from 0 holds that
            shares.append(1.0)
            drawn_by[p.id] = [0.0]
            return
        waits = []
        for _ in range(samples):
            twin = d.branch(p.issued, p.id, random.Random(branch_rng.random()))
            twin.run()
            waits.append((twin.called[p.id] - p.issued) / 60 if p.id in twin.called else math.inf)
        drawn_by[p.id] = waits
        shares.append(best_range([w for w in waits if w < math.inf] or [0.0])[2] * sum(w < math.inf for w in waits) / samples)

    play(sc, oc, seed, nth, at_issue)
    waits = sorted((real.called[p.id] - p.issued) / 60 for p in real.people if p.id in real.called)
    engine, printed = engine_day(sc, oc, config, seed, nth)
    assert len(printed) == len(real.people), "the engine's day is not the in-memory day"
    # The range the engine printed for the same citizen (people are numbered in the order issued),
    # held against the same drawn calls: the share this estimator can expect.
    ours = [sum(printed[pid - 1][0] <= w <= printed[pid - 1][1] for w in drawn) / len(drawn)
            for pid, drawn in drawn_by.items() if printed[pid - 1] is not None]
    return {"tickets": len(real.people), "called": len(waits), "mean_wait": _mean(waits), "p90_wait": p90(waits) or 0.0,
            "engine": engine, "evaluated": len(shares), "bound": statistics.fmean(shares) if shares else None,
            "ours": statistics.fmean(ours) if ours else None}


def engine_day(sc: Scenario, oc: OfficeConfig, config, seed: int, nth: int) -> tuple[dict, list[tuple[int, int] | None]]:
    """The same days played by the engine (`motcua simulate`): the `nth` day's ticket count, mean and p90
    wait (min), and the range printed on each of its tickets in the order issued (None: unknown)."""
    day = business_days(oc, sc.date, nth + 1)[-1]
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bound-"))
    url = f"sqlite:///{tmp / 'sim.db'}"
    try:
        run_scenario(sc.model_copy(update={"days": nth + 1}), oc, config, seed=seed, database_url=url)
        db = Database(url)
        try:
            with db.read() as s:
                rows = s.execute(select(T.c.eta_low, T.c.eta_high, T.c.issued_at, L.c.called_at)
                                 .select_from(T.join(L, (L.c.ticket_id == T.c.id) & (L.c.seq == 1)))
                                 .where(T.c.business_day == day).order_by(T.c.id)).all()
        finally:
            db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    waits = sorted((r.called_at - r.issued_at).total_seconds() / 60 for r in rows if r.called_at is not None)
    return ({"tickets": len(rows), "mean_wait": _mean(waits), "p90_wait": p90(waits) or 0.0},
            [(r.eta_low, r.eta_high) if r.eta_low is not None else None for r in rows])


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else 0.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path)
    ap.add_argument("--samples", type=int, default=200, help="continuations drawn at each ticket's issue")
    ap.add_argument("--seeds", type=int, default=4, help="days per scenario: its own seed, then the next ones")
    ap.add_argument("--tickets", type=int, default=120, help="at most this many tickets evaluated per day")
    ap.add_argument("--week", action="store_true",
                    help=f"days 2-{WEEK} of the scenario's own seed (those `bench.estimates --week` measures) instead of first days")
    args = ap.parse_args(argv)
    paths = args.scenarios or [p for d in (SCENARIOS, SCENARIOS / "unseen") for p in sorted(d.glob("*.toml")) if "config" not in p.name]
    lines = [f"| scenario | {'day' if args.week else 'seed'} | tickets | mean wait (min) | p90 wait (min) | engine's day: tickets, mean, p90 "
             "| tickets evaluated | best share within range | the estimator's expected share |", "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    summary = []
    for path in paths:
        name = path.stem if path.resolve().parent == SCENARIOS.resolve() else f"{path.parent.name}/{path.stem}"
        sc, _, _ = load_scenario(path)
        days = [(sc.seed, nth) for nth in range(1, WEEK)] if args.week else [(seed, 0) for seed in range(sc.seed, sc.seed + args.seeds)]
        best, ours = [], []
        for seed, nth in days:
            out = bound(path, seed, args.samples, args.tickets, nth)
            e = out["engine"]
            best.append(out["bound"])
            ours.append(out["ours"])
            lines.append(f"| {name} | {nth + 1 if args.week else seed} | {out['tickets']} | {out['mean_wait']:.1f} | {out['p90_wait']:.1f} | "
                         f"{e['tickets']}, {e['mean_wait']:.1f}, {e['p90_wait']:.1f} | {out['evaluated']} | {pct(out['bound'])} | "
                         f"{pct(out['ours'])} |")
            print(lines[-1], flush=True)
        ours_known = [x for x in ours if x is not None]
        summary.append(f"| {name} | {pct(statistics.fmean(best))} | {pct(min(best))} | "
                       f"{pct(statistics.fmean(ours_known) if ours_known else None)} | {pct(min(ours_known, default=None))} |")
    if args.week:
        command = f"`python -m bench.estimate_bound --week --samples {args.samples} --tickets {args.tickets}`"
        what = (f"days 2–{WEEK} of each scenario's own seed, played in a row as `python -m bench.estimates --week` plays them: "
                "the estimator has learnt from the earlier days, the oracle needs none")
        title = f"The best an estimate could do, days 2–{WEEK}"
    else:
        command = f"`python -m bench.estimate_bound --samples {args.samples} --seeds {args.seeds} --tickets {args.tickets}`"
        what = f"{args.seeds} days per scenario, each a first day"
        title = "The best an estimate could do"
    body = (f"{command} ({args.samples} continuations per ticket, {what}). *Best*: for each evaluated ticket, the range of the "
            "goal's width that holds the most of its drawn calls, its share averaged over the tickets; no estimate that knows "
            "only the state at issue can expect to do better on such days. *The estimator's expected share*: the share of the "
            "same drawn calls inside the range the engine printed on that ticket; unlike the share of one day's real calls, "
            "it is not at the mercy of that day's luck. *Engine's day*: the same day played by `motcua simulate` (the same "
            "tickets as the in-memory day, a check that both are the same day).\n\n"
            "| scenario | best (mean of the days) | best, worst day | the estimator's expected share (mean of the days) "
            "| the estimator, worst day |\n|---|---:|---:|---:|---:|\n" + "\n".join(summary) + "\n\n" + "\n".join(lines) + "\n")
    write_section(title, body)


if __name__ == "__main__":
    main(sys.argv[1:])
