"""One field's day at counters of its own, as a plain discrete-event queue (M/G/c with the
office's hours): what the staffing search uses to judge a setting on many simulated days
where the engine's day runner (`simulation.runner`) would judge it on two.

It follows the runner's clerks and the engine's queue rule for a field served alone: citizens
are drawn by `simulation.arrivals` (Poisson arrivals at the hour's rate, log-normal service
times, priority and no-show shares) and turned away outside the field's issuing windows; a free
counter calls at once, priority first unless it has called `priority_ratio` priority citizens in
a row, first come first served within a class; an absent citizen holds the counter for the
runner's no-show wait, a present one for the walk and the service; at the end of its span a
counter finishes the citizen in hand and closes, so a queue left before the lunch break waits
until the afternoon's counters open. Transfers and daily quotas are not modelled (the staffing
scenarios have neither).

Times are seconds since the day's local midnight."""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, time

from motcua.config import parse_span
from motcua.engine import clock
from motcua.simulation.arrivals import arrivals
from motcua.simulation.runner import NO_SHOW_WAIT_S, WALK_S
from motcua.simulation.scenario import FieldSpec

Spans = list[tuple[float, float]]
OPEN, CLOSE, ARRIVE, FREE = 0, 1, 2, 3  # at equal times: counters open before citizens arrive


def seconds(spans: list[str]) -> Spans:
    """HH:MM-HH:MM spans as (start, end) seconds since midnight."""
    out = []
    for span in spans:
        a, b = parse_span(span)
        end = 24 * 3600 if b == time.max else b.hour * 3600 + b.minute * 60
        out.append((a.hour * 3600 + a.minute * 60, end))
    return sorted(out)


@dataclass(frozen=True)
class Citizens:
    """One simulated day's citizens of a field, in order of arrival (those turned away left out)."""

    arrive_s: list[float]
    priority: list[bool]
    busy_s: list[float]  # how long each holds the counter that calls them: walk and service, or the no-show wait

    def __len__(self) -> int:
        return len(self.arrive_s)


def draw(spec: FieldSpec, day: date, tz: str, groups: list[str], windows: Spans | None, seed: int) -> Citizens:
    """The field's citizens of one day, drawn as the runner draws them (`windows` None: issued all day)."""
    rng = random.Random(seed)
    midnight = datetime.combine(day, time(0), tzinfo=clock.zone(tz)).timestamp()
    arrive, prio, busy, present = [], [], [], []
    # Every citizen first, as the runner draws them: a seed meets the same people in both.
    for c in arrivals(rng, spec, day, tz, groups):
        t = c.at.timestamp() - midnight
        if windows is None or any(a <= t <= b for a, b in windows):
            arrive.append(t)
            prio.append(c.priority is not None)
            busy.append(NO_SHOW_WAIT_S if c.absent else c.service_s)
            present.append(not c.absent)
    for i, here in enumerate(present):
        if here:
            busy[i] += rng.uniform(*WALK_S)
    return Citizens(arrive, prio, busy)


def run(citizens: Citizens, counters: list[Spans], ratio: int) -> list[float | None]:
    """Each citizen's wait from arrival to call, in seconds (None: still waiting when the last counter closed)."""
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    for k, spans in enumerate(counters):
        for a, b in spans:
            events += [(a, OPEN, seq, k), (b, CLOSE, seq + 1, k)]
            seq += 2
    events += [(t, ARRIVE, seq + i, i) for i, t in enumerate(citizens.arrive_s)]
    seq += len(citizens)
    heapq.heapify(events)
    n = len(counters)
    is_open, busy, closing, streak = [False] * n, [False] * n, [False] * n, [0] * n
    waiting: tuple[deque[int], deque[int]] = (deque(), deque())  # ordinary, priority
    waits: list[float | None] = [None] * len(citizens)
    arrive, hold = citizens.arrive_s, citizens.busy_s

    def call(k: int, now: float) -> None:
        nonlocal seq
        ordinary, prio = waiting
        if prio and (streak[k] < ratio or not ordinary):
            i = prio.popleft()
            streak[k] += 1
        elif ordinary:
            i = ordinary.popleft()
            streak[k] = 0
        else:
            return
        waits[i] = now - arrive[i]
        busy[k] = True
        seq += 1
        heapq.heappush(events, (now + hold[i], FREE, seq, k))

    while events:
        now, kind, _, x = heapq.heappop(events)
        if kind == ARRIVE:
            waiting[citizens.priority[x]].append(x)
            for k in range(n):
                if is_open[k] and not busy[k]:
                    call(k, now)
                    break
        elif kind == FREE:
            busy[x] = False
            if closing[x]:
                closing[x] = is_open[x] = False
            else:
                call(x, now)
        elif kind == OPEN:
            if is_open[x]:
                closing[x] = False
            else:
                is_open[x] = True
                call(x, now)
        elif busy[x]:  # CLOSE with a citizen in hand: after them
            closing[x] = True
        else:
            is_open[x] = False
    return waits


def crossing_hour(arrive_s: float, target_s: float, working: Spans) -> int:
    """The working hour in which a citizen's wait passes the target: where a counter more would
    have called them in time. Past the end of a span they waited through (the lunch break, the
    evening) it is that span's last hour, whose leftover queue is what waits; for a citizen who
    came while no span was open, the next span's first hour."""
    t = arrive_s + target_s
    for a, b in working:
        if a <= t < b:
            return int(t // 3600)
    ended = [b for _a, b in working if arrive_s < b <= t]
    if ended:
        return int((ended[-1] - 1) // 3600)
    later = [a for a, _b in working if a > arrive_s]
    if later:
        return int(later[0] // 3600)
    return int((working[-1][1] - 1) // 3600) if working else int(t // 3600)
