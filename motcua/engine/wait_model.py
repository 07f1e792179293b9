"""When will a waiting citizen be called? A mean-value run of the queue order, no database.

The model replays, on the counters that are open or paused now, the very rule call next
applies (`queue_order.pick_at`: priority ratio, field weights × waiting time): each counter, when
it is free, picks a head among its fields; the citizen costs that field's mean service time
(with its no-show share at the cost of a no-show). Those waiting keep their own queue keys, so
a shared counter weighs them as call next will. Citizens expected to arrive meanwhile join the
queues hour by hour at the rates of the field's usual day (scaled to how busy today is), or at
its rate of the last hour where it has no earlier day, so priority citizens who will overtake and
other fields that compete for a shared counter are counted. Counters stop at the end of the
working span and take up again at the next one (a ticket issued at 11:20 is not called before
13:30); a counter with planned hours of its own stops and starts at those (one leaving at 15:00,
one opening at 09:00), and a counter that usually pauses at a time of day does so again.

The run gives the expected call time; its spread comes from the variance of the services
counted before that call, of the services in hand when the run starts, and of how many newcomers
were served first (a Poisson count), pooled over the counters that did them. Newcomers stop when
the issuing window closes. Everything is in
seconds since the epoch, and nothing here reads a clock.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace

from motcua.engine import queue_order
from motcua.engine.queue_order import Head

INF = math.inf
# Past this many simulated calls the rest of the queue is extrapolated at the rate seen so far:
# the run stays bounded however long the queue (issuing must stay cheap).
MAX_CALLS = 160


@dataclass(frozen=True)
class Cost:
    """What one called citizen of a field costs a counter: the mean and variance (s, s²)."""

    mean: float
    var: float


@dataclass
class Queue:
    """One class (priority or ordinary) of one field: `count` waiting now, the first of them
    queued at `head_key` (or every one's key, `keys`, in order), and newcomers expected from now
    on at `rate` per second, or, where the field's history gives its day's shape, at the rates of
    `segments` ((from, rate) pieces, the first starting by now). Without `keys`, the keys of those
    waiting are taken as evenly spread between the head and now."""

    count: int
    head_key: float
    rate: float = 0.0
    popped: int = 0
    until: float = INF  # no newcomers after this (the issuing window closes)
    keys: list[float] | None = None
    segments: list[tuple[float, float]] | None = None

    def key(self, i: int, now: float) -> float:
        if i < self.count:
            if not self.keys:
                return self.head_key + (now - self.head_key) * i / max(self.count, 1)
            if i < len(self.keys):
                return self.keys[i]
            # Past the keys read (a very long queue): the rest spread evenly up to now.
            last, rest = self.keys[-1], self.count - len(self.keys) + 1
            return last + (now - last) * (i - len(self.keys) + 1) / rest
        return self._moment(i - self.count + 1, now)

    def available(self, t: float, now: float) -> int:
        # The epsilon: at the very moment next_arrival names, that citizen has arrived.
        return self.count + int(self._expected(t, now) + 1e-6) - self.popped

    def next_arrival(self, now: float) -> float:
        """When the next citizen reaches an empty queue."""
        return self.key(self.popped, now)

    def _pieces(self, now: float):
        """(from, to, rate) of the newcomers' rate after now, up to `until`."""
        segments = self.segments or [(now, self.rate)]
        for j, (start, rate) in enumerate(segments):
            end = min(segments[j + 1][0] if j + 1 < len(segments) else INF, self.until)
            start = max(start, now)
            if end > start:
                yield start, end, rate

    def _expected(self, t: float, now: float) -> float:
        """How many newcomers are expected in (now, t]."""
        return sum(rate * (min(end, t) - start) for start, end, rate in self._pieces(now) if t > start)

    def _moment(self, n: int, now: float) -> float:
        """When the n-th newcomer is expected (INF: not before the issuing window closes)."""
        seen = 0.0
        for start, end, rate in self._pieces(now):
            if rate > 0 and seen + rate * (end - start) >= n - 1e-9:
                return start + (n - seen) / rate
            seen += rate * (end - start) if end < INF else 0.0
        return INF


@dataclass
class Desk:
    """A counter: the fields it serves with their weights, when it is next free (and how uncertain
    that is), its streak of priority calls, and its clerk's own mean cost per field where it is known."""

    fields: dict[int, float]
    free_at: float
    streak: int = 0
    costs: dict[int, Cost] = field(default_factory=dict)
    busy_var: float = 0.0  # the variance of the rest of the service in hand (s²)
    # The counter's own planned spans today, when they differ from the office's (None: the office's;
    # empty: it calls nobody more today).
    spans: list[tuple[float, float]] | None = None
    # Its usual pause still to come today (usual_pauses): taken when it is free at or after
    # `pause_at`, for `pause_s`.
    pause_at: float = INF
    pause_s: float = 0.0


@dataclass(frozen=True)
class Forecast:
    wait_s: float  # expected wait until the call
    sd_s: float  # its standard deviation
    next_wait_s: float  # the same for a citizen just behind (the field's estimate for a newcomer)


def _span_at(spans: list[tuple[float, float]], t: float, desk: Desk | None = None) -> float:
    """The moment a counter free at t may call: t inside a span, else the next span's start
    (INF when the day is over). No spans configured: any time. A desk with planned hours of its
    own follows them instead of the office's."""
    if desk is not None and desk.spans is not None:
        if not desk.spans:
            return INF
        spans = desk.spans
    if not spans:
        return t
    for start, end in spans:
        if t < end:
            return max(t, start)
    return INF


def forecast(desks: list[Desk], queues: dict[tuple[int, bool], Queue], costs: dict[int, Cost], target: tuple[int, bool],
             ahead: int, now: float, ratio: int, spans: list[tuple[float, float]]) -> Forecast | None:
    """The call of the citizen at place `ahead` (0-based) of the `target` (field, priority) queue,
    whose other waiting citizens the queue counts. None when no counter will call them today."""
    queues = {k: replace(q, popped=0) for k, q in queues.items()}
    mine = queues.setdefault(target, Queue(0, now))
    # The citizen themself at place `ahead` and, when they are the last, a newcomer just behind
    # them (whose wait is the field's estimate for the next ticket).
    mine.count += 1 + (ahead >= mine.count)
    mates = set().union(*(d.fields for d in desks if target[0] in d.fields))  # fields sharing a counter with the target's
    heap = [(_span_at(spans, d.free_at, d), i) for i, d in enumerate(desks) if mates & set(d.fields)]
    heapq.heapify(heap)
    call_at: float | None = None
    var = 0.0
    used: set[int] = set()
    calls = 0
    t = now
    steps = 0
    while heap and steps < 8 * MAX_CALLS:  # idle counters waiting for newcomers count as steps too
        steps += 1
        t, i = heapq.heappop(heap)
        if t == INF:
            break
        desk = desks[i]
        if t >= desk.pause_at:  # its usual pause, once the citizen in hand is done
            desk.pause_at = INF
            heapq.heappush(heap, (_span_at(spans, t + desk.pause_s, desk), i))
            continue
        heads = []
        for sid, _weight in desk.fields.items():
            for prio in (True, False):
                q = queues.get((sid, prio))
                if q is not None and q.available(t, now) > 0:
                    heads.append(Head(sid, prio, q.key(q.popped, now)))
        if not heads:
            nxt = min((q.next_arrival(now) for (sid, _p), q in queues.items() if sid in desk.fields), default=INF)
            if nxt < INF:
                heapq.heappush(heap, (_span_at(spans, max(nxt, t), desk), i))
            continue
        sid, prio, key, _ = queue_order.pick_at(heads, desk.fields, desk.streak, ratio, t)
        q = queues[(sid, prio)]
        if (sid, prio) == target and q.popped == ahead + 1:
            return _result(call_at, t, now, var, used, desks)
        if (sid, prio) == target and q.popped == ahead:
            call_at = t
            used.add(i)  # its service in hand delays the call too
        q.popped += 1
        desk.streak = queue_order.streak_after(desk.streak, prio)
        cost = desk.costs.get(sid) or costs[sid]
        if call_at is None:
            var += cost.var
            # A newcomer served first: how many come is itself random (Poisson: variance = mean).
            if key > now:
                var += cost.mean ** 2
            used.add(i)
        heapq.heappush(heap, (_span_at(spans, t + cost.mean, desk), i))
        calls += 1
        if calls >= MAX_CALLS and call_at is None:
            return _extrapolate(queues, target, ahead, t, now, var, used, costs, desks, spans)
        if calls >= 2 * MAX_CALLS:  # called already; whoever follows is far behind
            break
    if call_at is not None:
        return _result(call_at, call_at, now, var, used, desks)
    return None


def _result(call_at: float, next_at: float, now: float, var: float, used: set[int], desks: list[Desk]) -> Forecast:
    # The n-th call among c counters comes after about (S1 + … + Sn) / c: variances pool over c²,
    # the rest of each counter's service in hand included.
    c = max(len(used), 1)
    var += sum(desks[i].busy_var for i in used)
    return Forecast(call_at - now, math.sqrt(var) / c, next_at - now)


def working_seconds(spans: list[tuple[float, float]], since: float, until: float) -> float:
    """Seconds of [since, until] in which counters call (all of it when no spans are set)."""
    if not spans:
        return max(until - since, 0.0)
    return sum(max(min(end, until) - max(start, since), 0.0) for start, end in spans)


def _after_working(spans: list[tuple[float, float]], t: float, seconds: float) -> float:
    """The moment `seconds` of calling time after t: the break and the night do not count, so a
    long queue issued at 10:30 runs on after the lunch break rather than through it."""
    if not spans:
        return t + seconds
    for start, end in spans:
        if end <= t:
            continue
        begin = max(t, start)
        if begin + seconds <= end:
            return begin + seconds
        seconds -= end - begin
        t = end
    return INF


def _extrapolate(queues: dict[tuple[int, bool], Queue], target: tuple[int, bool], ahead: int, t: float, now: float,
                 var: float, used: set[int], costs: dict[int, Cost], desks: list[Desk],
                 spans: list[tuple[float, float]]) -> Forecast | None:
    """The rest of a long queue, at the rate its class was called so far in the run (per
    second of calling time; with counters of their own hours, per second of a counter's calling
    time, so one leaving at 15:00 slows the rest of the queue)."""
    q = queues[target]
    left = ahead - q.popped
    c = max(len(used), 1)
    cost = costs[target[0]]
    serving = [d for d in desks if target[0] in d.fields]
    worked = working_seconds(spans, now, t)
    if q.popped > 0 and worked > 0:
        per_call = worked / q.popped
    else:
        per_call = cost.mean / max(len(serving), 1)
    if all(d.spans is None for d in serving):
        call_at = _after_working(spans, t, left * per_call)
        next_at = _after_working(spans, call_at, per_call) if call_at < INF else INF
    else:
        own = [_own(d, spans) for d in serving]
        counted = _capacity(own, now, t)
        per_desk_call = counted / q.popped if q.popped > 0 and counted > 0 else cost.mean
        call_at = _after_capacity(own, t, left * per_desk_call)
        next_at = _after_capacity(own, call_at, per_desk_call) if call_at < INF else INF
    if call_at == INF:
        return None
    var += left * cost.var * (per_call * c / max(cost.mean, 1.0)) + sum(desks[i].busy_var for i in used)
    return Forecast(call_at - now, math.sqrt(var) / c, (next_at if next_at < INF else call_at + per_call) - now)


def _own(desk: Desk, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans a counter calls in: its own, else the office's (no office hours: always)."""
    if desk.spans is not None:
        return desk.spans
    return spans or [(-INF, INF)]


def _capacity(own: list[list[tuple[float, float]]], since: float, until: float) -> float:
    """Counter-seconds of calling time in [since, until]."""
    return sum(working_seconds(s, since, until) for s in own)


def _after_capacity(own: list[list[tuple[float, float]]], t: float, amount: float) -> float:
    """The moment `amount` counter-seconds of calling time after t (INF: not today)."""
    cuts = sorted({x for s in own for span in s for x in span if t < x < INF})
    begin = t
    for end in [*cuts, INF]:
        working = sum(1 for s in own if any(a <= begin < b for a, b in s))
        if working and begin + amount / working <= end:
            return begin + amount / working
        if end == INF:
            return INF
        amount -= working * (end - begin)
        begin = end
    return INF
