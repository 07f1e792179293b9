"""The day runner: a centre's day on a virtual clock, through the same engine functions the API
calls (issue, call next, start, finish, no-show, transfer, pause, resume, open, close), each in
its own write transaction, with `now` passed explicitly: nothing here reads the real clock.

Clerks behave simply: a free counter calls the next citizen at once; the citizen walks up (or,
absent, is marked no-show after NO_SHOW_WAIT_S); the service lasts what the citizen drew on
arrival; at the end of a span the counter finishes its citizen and closes; a pause starts when
the citizen in hand is done."""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from motcua.config import WEEKDAYS, Config, OfficeConfig, parse_span
from motcua.db import Database
from motcua.engine import clock, counters, tickets
from motcua.engine.errors import QueueError
from motcua.models import Counter, Office, Role, User
from motcua.simulation.arrivals import Citizen, arrivals, service_time
from motcua.simulation.scenario import FieldSpec, Scenario

NO_SHOW_WAIT_S = 90.0  # a call, a recall, then marked absent
WALK_S = (15.0, 45.0)  # from the call to the start of service
PAUSE_REASON = "Tạm nghỉ (mô phỏng)"


@dataclass
class Desk:
    number: int
    counter_id: int
    user_id: int
    fields: set[str]
    state: str = "closed"  # closed | idle | called | serving | paused
    closing: bool = False
    pause_min: float = 0.0
    ticket: int | None = None


@dataclass
class DayCounts:
    issued: int = 0
    turned_away: int = 0  # arrived outside the issuing windows, or after the quota


def prepare(db: Database, config: Config, office_code: str) -> tuple[int, dict[int, tuple[int, int]]]:
    """Seed the office and one clerk per counter; (office id, {counter number: (counter id, clerk id)})."""
    from motcua.seed import seed

    with db.write() as s:
        seed(s, config)
        office = s.scalar(select(Office).where(Office.code == office_code))
        desks = {}
        for c in s.scalars(select(Counter).where(Counter.office_id == office.id)):
            name = f"sim-{office.code}-{c.number}"
            user = s.scalar(select(User).where(User.username == name))
            if user is None:
                # No password can match "!": these clerks exist only for the simulated day.
                user = User(office_id=office.id, username=name, full_name=f"Mô phỏng {c.number}", password_hash="!",
                            role=Role.clerk, counter_id=c.id, created_at=clock.now())
                s.add(user)
                s.flush()
            desks[c.number] = (c.id, user.id)
        return office.id, desks


def plan_hours(db: Database, desks: dict[int, tuple[int, int]], counters_spans: dict[int, list[str]]) -> None:
    """The scenario's counter spans as those counters' planned hours, every day: that is what the
    office's manager planned (its pauses are not planned, so they stay unknown to the estimate)."""
    with db.write() as s:
        for number, spans in counters_spans.items():
            s.get(Counter, desks[number][0]).hours = {d: list(spans) for d in WEEKDAYS}


class DayRunner:
    def __init__(self, db: Database, office_id: int, oc: OfficeConfig, sc: Scenario, desks: dict[int, tuple[int, int]],
                 rng: random.Random) -> None:
        self.db, self.office_id, self.oc, self.sc, self.rng = db, office_id, oc, sc, rng
        served = {c.number: set(c.fields) for c in oc.counters}
        self.desks = {n: Desk(n, desks[n][0], desks[n][1], served[n]) for n in sc.counters}
        self.specs: dict[str, FieldSpec] = {f.service: f for f in sc.fields}
        self.groups = [g.code for g in oc.priority_groups]
        self.citizens: dict[int, Citizen] = {}
        self.second_s: dict[int, float] = {}
        self.heap: list[tuple[float, int, str, tuple]] = []
        self.seq = itertools.count()

    # ---- the clock ----------------------------------------------------------------------

    def at(self, moment: datetime, kind: str, *args: object) -> None:
        heapq.heappush(self.heap, (moment.timestamp(), next(self.seq), kind, args))

    def run(self, day: date) -> DayCounts:
        counts = DayCounts()
        tz = self.oc.timezone
        for number, spans in self.sc.counters.items():
            for span in spans:
                start, end = parse_span(span)
                self.at(datetime.combine(day, start, tzinfo=clock.zone(tz)), "open", number)
                self.at(datetime.combine(day, end, tzinfo=clock.zone(tz)), "close", number)
        for p in self.sc.pauses:
            self.at(datetime.combine(day, p.at_time, tzinfo=clock.zone(tz)), "pause", p.counter, p.minutes)
        for spec in self.sc.fields:
            for citizen in arrivals(self.rng, spec, day, tz, self.groups):
                self.at(citizen.at, "arrive", citizen)
        while self.heap:
            ts, _, kind, args = heapq.heappop(self.heap)
            now = datetime.fromtimestamp(ts, clock.zone(tz))
            getattr(self, "_" + kind)(now, counts, *args)
        return counts

    # ---- the engine, one transaction per action ------------------------------------------

    def act(self, desk: Desk, fn, *args: object, now: datetime):
        with self.db.write() as s:
            c = s.get(Counter, desk.counter_id)
            return fn(s, c, *args, s.get(User, desk.user_id), now)

    def _arrive(self, now: datetime, counts: DayCounts, citizen: Citizen) -> None:
        try:
            with self.db.write() as s:
                issued = tickets.issue_ticket(s, self.office_id, citizen.service, priority=citizen.priority, now=now)
        except QueueError as exc:
            if exc.status in (403, 409):  # outside the windows, or the day's numbers are used up
                counts.turned_away += 1
                return
            raise
        counts.issued += 1
        self.citizens[issued.id] = citizen
        self._wake(now, citizen.service)

    def _wake(self, now: datetime, service: str) -> None:
        for desk in self.desks.values():
            if desk.state == "idle" and service in desk.fields:
                self._call(desk, now)

    def _call(self, desk: Desk, now: datetime) -> None:
        ticket_id = self.act(desk, counters.call_next, now=now)
        if ticket_id is None:
            desk.state = "idle"
            return
        desk.ticket, desk.state = ticket_id, "called"
        citizen = self.citizens.get(ticket_id)
        if citizen is not None and citizen.absent and ticket_id not in self.second_s:
            self.at(now + timedelta(seconds=NO_SHOW_WAIT_S), "absent", desk.number)
        else:
            self.at(now + timedelta(seconds=self.rng.uniform(*WALK_S)), "start", desk.number)

    def _start(self, now: datetime, _counts: DayCounts, number: int) -> None:
        desk = self.desks[number]
        self.act(desk, counters.start, now=now)
        desk.state = "serving"
        tid = desk.ticket
        citizen = self.citizens.get(tid)
        duration = self.second_s.get(tid) or (citizen.service_s if citizen else 300.0)
        self.at(now + timedelta(seconds=duration), "done", number)

    def _done(self, now: datetime, _counts: DayCounts, number: int) -> None:
        desk = self.desks[number]
        tid = desk.ticket
        citizen = self.citizens.get(tid)
        spec = self.specs.get(citizen.service) if citizen else None
        if citizen and spec and citizen.transfer and spec.transfer_to and tid not in self.second_s:
            target = self.specs.get(spec.transfer_to)
            self.second_s[tid] = service_time(self.rng, target) if target else citizen.service_s
            self.act(desk, counters.transfer, spec.transfer_to, None, now=now)
            self._after(desk, now)
            self._wake(now, spec.transfer_to)
            return
        self.act(desk, counters.finish, now=now)
        self._after(desk, now)

    def _absent(self, now: datetime, _counts: DayCounts, number: int) -> None:
        desk = self.desks[number]
        self.act(desk, counters.no_show, now=now)
        self._after(desk, now)

    def _after(self, desk: Desk, now: datetime) -> None:
        """The citizen in hand is done: pause, close or call the next."""
        desk.ticket, desk.state = None, "idle"
        if desk.closing:
            desk.closing = False
            self._close(now, None, desk.number)
        elif desk.pause_min:
            self._pause(now, None, desk.number, desk.pause_min)
        else:
            self._call(desk, now)

    # ---- the counters' hours ---------------------------------------------------------------

    def _open(self, now: datetime, _counts: DayCounts | None, number: int) -> None:
        desk = self.desks[number]
        if desk.state != "closed":
            desk.closing = False
            return
        self.act(desk, counters.open_counter, now=now)
        desk.state = "idle"
        self._call(desk, now)

    def _close(self, now: datetime, _counts: DayCounts | None, number: int) -> None:
        desk = self.desks[number]
        if desk.state in ("called", "serving"):
            desk.closing = True
            return
        if desk.state != "closed":
            self.act(desk, counters.close_counter, now=now)
        desk.state, desk.pause_min = "closed", 0.0

    def _pause(self, now: datetime, _counts: DayCounts | None, number: int, minutes: float) -> None:
        desk = self.desks[number]
        if desk.state in ("called", "serving"):
            desk.pause_min = minutes
            return
        if desk.state != "idle":
            return
        desk.pause_min = 0.0
        self.act(desk, counters.pause, PAUSE_REASON, now=now)
        desk.state = "paused"
        self.at(now + timedelta(minutes=minutes), "resume", number)

    def _resume(self, now: datetime, _counts: DayCounts | None, number: int) -> None:
        desk = self.desks[number]
        if desk.state != "paused":
            return
        self.act(desk, counters.resume, now=now)
        desk.state = "idle"
        self._call(desk, now)
