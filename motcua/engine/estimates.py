"""Honest wait estimates: a range that most citizens are called inside.

At the moment of asking, the engine knows the counters open or paused now, the fields each
serves with its weight, who each is serving and since when, who waits in every field and since
when, and (field_stats) each field's service times, no-shows and arrivals, with, from the earlier
days, its usual day: how many come in each hour. wait_model replays the queue order on that
state (the same rule call next uses: `queue_order.pick_at`) and gives the expected call and its
spread; the range (eta_range) is where most of that spread falls, kept within what a citizen
can plan with.

A counter may have planned hours of its own (a roster): it then stops at its planned end and
comes back after the break at its planned start, and a counter planned to open later today joins
at that moment. Pauses are not planned: they stay the typical pause.

No counter serving a field, now or after the break today, means nobody can say when the
citizen will be called: the estimate is then "không xác định" rather than a made-up number."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from motcua.config import parse_span
from motcua.engine import clock, field_stats, queue_order, usual_pauses
from motcua.engine.eta_range import best_range
from motcua.engine.wait_model import MAX_CALLS, Cost, Desk, Queue, forecast, working_seconds
from motcua.models import Counter, CounterEvent, CounterService, CounterStatus, Service, Ticket, TicketLeg, TicketStatus, WaitingCount
from motcua.prepared import Prepared

UNKNOWN_VI = "Không xác định"
UNKNOWN_EN = "Unknown"
PAUSE_TYPICAL_S = 15 * 60
TOPOLOGY_TTL_S = 60
KEYS_READ = 2 * MAX_CALLS


@dataclass(frozen=True)
class Eta:
    low: int | None
    high: int | None

    @property
    def known(self) -> bool:
        return self.low is not None

    # A range from 0 (nobody ahead) reads "under N minutes": "0–13 phút" reads as a mistake.
    def text(self) -> str:
        if not self.known:
            return UNKNOWN_VI
        return f"Dưới {self.high} phút" if self.low == 0 else f"Khoảng {self.low}–{self.high} phút"

    def text_en(self) -> str:
        if not self.known:
            return UNKNOWN_EN
        return f"Under {self.high} min" if self.low == 0 else f"About {self.low}–{self.high} min"

    def as_list(self) -> list[int] | None:
        return [self.low, self.high] if self.known else None


UNKNOWN = Eta(None, None)


@dataclass(frozen=True)
class Estimate:
    """A citizen's range, the range of a newcomer right behind them, and the field's counts."""

    eta: Eta
    next_eta: Eta
    waiting: int
    priority_waiting: int


_cs, _counters, _services = CounterService.__table__, Counter.__table__, Service.__table__
_tickets, _legs, _counts, _cevents = Ticket.__table__, TicketLeg.__table__, WaitingCount.__table__, CounterEvent.__table__
_TOPOLOGY = Prepared(
    select(_cs.c.counter_id, _cs.c.service_id, _cs.c.weight)
    .join(_counters, _counters.c.id == _cs.c.counter_id)
    .where(_counters.c.office_id == bindparam("office_id"), _counters.c.active)
)
_HOURS = Prepared(select(_counters.c.id, _counters.c.hours).where(_counters.c.office_id == bindparam("office_id"), _counters.c.active))
_MINUTES = Prepared(select(_services.c.id, _services.c.service_minutes).where(_services.c.office_id == bindparam("office_id")))
_DESKS = Prepared(
    select(_counters.c.id, _counters.c.status, _counters.c.clerk_id, _counters.c.priority_streak, _tickets.c.status,
           _tickets.c.service_id, _legs.c.called_at, _legs.c.started_at)
    .select_from(_counters.outerjoin(_tickets, _tickets.c.id == _counters.c.current_ticket_id)
                 .outerjoin(_legs, and_(_legs.c.ticket_id == _tickets.c.id, _legs.c.outcome.is_(None))))
    .where(_counters.c.office_id == bindparam("office_id"), _counters.c.active, _counters.c.status != CounterStatus.closed)
)
_COUNTS = Prepared(
    select(_counts.c.service_id, _counts.c.waiting, _counts.c.priority)
    .join(_services, _services.c.id == _counts.c.service_id)
    .where(_services.c.office_id == bindparam("office_id"), _counts.c.business_day == bindparam("day"))
)
_KEYS = Prepared(  # the office's first waiting tickets' keys, enough for the run to follow (wait_model.MAX_CALLS)
    select(_tickets.c.service_id, _tickets.c.priority_group_id.is_not(None), _tickets.c.queue_key)
    .where(_tickets.c.office_id == bindparam("office_id"), _tickets.c.business_day == bindparam("day"),
           _tickets.c.status == TicketStatus.waiting, queue_order.callable_now(_tickets))
    .order_by(_tickets.c.queue_key)
    .limit(KEYS_READ)
)
_PAUSED_AT = Prepared(select(func.max(_cevents.c.at)).where(_cevents.c.counter_id == bindparam("counter_id"), _cevents.c.kind == "paused"))
_OPENED_SINCE = Prepared(select(func.count()).where(_cevents.c.counter_id == bindparam("counter_id"), _cevents.c.kind == "opened",
                                                    _cevents.c.at >= bindparam("since")))
_AHEAD_IN_CLASS = Prepared(
    select(func.count()).where(
        _tickets.c.office_id == bindparam("office_id"), _tickets.c.business_day == bindparam("day"),
        _tickets.c.status == TicketStatus.waiting, _tickets.c.service_id == bindparam("service_id"),
        _tickets.c.queue_key < bindparam("key"), (_tickets.c.priority_group_id.is_not(None)) == bindparam("prio"),
        queue_order.callable_now(_tickets),
    )
)

Topology = tuple[dict[int, dict[int, float]], dict[int, float], dict[int, dict]]
_topologies: dict[tuple[str, int], tuple[datetime, Topology]] = {}


def forget_mean(session: Session, service_id: int) -> None:
    """A citizen of the field was just served (see field_stats.forget)."""
    field_stats.forget(session, service_id)


def _topology(session: Session, office_id: int, now: datetime) -> Topology:
    """Each active counter's fields and weights, each field's configured minutes, and the planned
    hours of the counters that have their own: they change only when a manager edits them, so
    they are read once a minute."""
    key = (str(session.get_bind().url), office_id)
    hit = _topologies.get(key)
    if hit is not None and 0 <= (now - hit[0]).total_seconds() < TOPOLOGY_TTL_S:
        return hit[1]
    conn = session.connection()
    fields: dict[int, dict[int, float]] = {}
    for counter_id, service_id, weight in _TOPOLOGY.all(conn, {"office_id": office_id}):
        fields.setdefault(counter_id, {})[service_id] = weight
    minutes = dict(_MINUTES.all(conn, {"office_id": office_id}))
    hours = {cid: h for cid, h in _HOURS.all(conn, {"office_id": office_id}) if h}
    _topologies[key] = (now, (fields, minutes, hours))
    return fields, minutes, hours


def forget_topology(session: Session, office_id: int) -> None:
    """A manager changed the office's counters or fields."""
    _topologies.pop((str(session.get_bind().url), office_id), None)


@lru_cache(maxsize=256)
def _spans(spans: tuple[str, ...], day: date, tz: str) -> list[tuple[float, float]]:
    """Today's working spans as epoch seconds."""
    out = []
    for span in spans:
        start, end = parse_span(span)
        begin = datetime.combine(day, start, tzinfo=clock.zone(tz))
        out.append((begin.timestamp(), datetime.combine(day, end, tzinfo=clock.zone(tz)).timestamp()))
    return out


def estimate(session: Session, office, service_id: int, now: datetime, *, priority: bool = False,
             ahead: int | None = None, key: float | None = None) -> Estimate:
    """The range for a citizen of the field: a newcomer of that class (ahead None: last of it),
    or one already waiting `ahead` places into their class (with queue key `key`)."""
    conn = session.connection()
    day = clock.business_day(now, office.timezone)
    topology, minutes, hours = _topology(session, office.id, now)
    counts = {sid: (w, p) for sid, w, p in _COUNTS.all(conn, {"office_id": office.id, "day": day})}
    waiting, prio_waiting = counts.get(service_id, (0, 0))
    if ahead is None:
        ahead = prio_waiting if priority else waiting - prio_waiting
    ts = now.timestamp()
    settings = office.settings or {}
    spans = _spans(tuple(clock.spans_for(settings.get("working_hours"), day) or ()), day, office.timezone)
    planned = {cid: _spans(tuple(own), day, office.timezone) for cid, h in hours.items() if (own := clock.spans_for(h, day)) is not None}
    desks = _desks(session, office, topology, planned, service_id, day, now)
    if not desks:
        return Estimate(UNKNOWN, UNKNOWN, waiting, prio_waiting)
    windows = _spans(tuple(clock.spans_for(settings.get("issuing_windows"), day) or ()), day, office.timezone) or spans
    issuing_s = working_seconds(windows, ts - field_stats.RATE_WINDOW_S, ts) if windows else field_stats.RATE_WINDOW_S
    until = next((end for start, end in windows if start <= ts < end), ts) if windows else math.inf
    involved = {sid for d in desks for sid in d.fields}
    stats = {sid: field_stats.field_stats(session, office.id, sid, minutes.get(sid, 10), day, now, issuing_s, tz=office.timezone)
             for sid in involved}
    hours = _hour_starts(now, office.timezone, until)
    rows = _KEYS.all(conn, {"office_id": office.id, "day": day})
    keyed: dict[tuple[int, bool], list[float]] = {}
    heads: dict[int, float] = {}
    for sid, prio, k in rows:
        keyed.setdefault((sid, bool(prio)), []).append(k)
        heads.setdefault(sid, k)
    # A field with none among the keys read waits behind all of them (a very long office queue).
    beyond = rows[-1][2] if len(rows) == KEYS_READ else ts
    queues: dict[tuple[int, bool], Queue] = {}
    for sid in involved:
        w, p = counts.get(sid, (0, 0))
        head = min(heads.get(sid, beyond), ts)
        usual = stats[sid].usual
        for prio, n, rate in ((True, p, stats[sid].rate_priority), (False, w - p, stats[sid].rate_ordinary)):
            segments = [(at, usual.rate(hour, prio)) for at, hour in hours] if usual is not None else None
            queues[(sid, prio)] = Queue(n, head, rate, until=until, keys=keyed.get((sid, prio)), segments=segments)
    target = queues[(service_id, priority)]
    if key is not None:  # a citizen already waiting: they are one of the count
        target.count = max(target.count - 1, 0)
    costs: dict[int, Cost] = {sid: st.cost() for sid, st in stats.items()}
    for d in desks:
        d.costs = {sid: stats[sid].cost(d.clerk) for sid in d.fields if stats[sid].clerk_mean_s.get(d.clerk)}
    for d in desks:
        d.free_at = _free_at(d, stats, ts, spans)
    pauses = usual_pauses.expected_pauses(session, office.id, day, now, office.timezone)
    for d in desks:
        if d.counter_id in pauses and d.status != CounterStatus.paused.value:
            d.pause_at, d.pause_s = pauses[d.counter_id]
    ratio = int(settings.get("priority_ratio", 2))
    fc = forecast(desks, queues, costs, (service_id, priority), min(ahead, target.count), ts, ratio, spans)
    if fc is None:
        return Estimate(UNKNOWN, UNKNOWN, waiting, prio_waiting)
    return Estimate(Eta(*best_range(fc.wait_s, fc.sd_s, ts, spans)), Eta(*best_range(fc.next_wait_s, fc.sd_s, ts, spans)),
                    waiting, prio_waiting)


def _hour_starts(now: datetime, tz: str, until: float) -> list[tuple[float, int]]:
    """(from, local hour) of now's hour and each later one until `until` (or the day's end)."""
    local = now.astimezone(clock.zone(tz))
    out = [(now.timestamp(), local.hour)]
    top = local.replace(minute=0, second=0, microsecond=0)
    for h in range(local.hour + 1, 24):
        at = (top + timedelta(hours=h - local.hour)).timestamp()
        if at >= until:
            break
        out.append((at, h))
    return out


def estimate_waiting(session: Session, office, t: Ticket, now: datetime) -> Eta:
    """The range for a ticket already waiting, from where it stands now (the status page)."""
    prio = t.priority_group_id is not None
    if not prio and t.appointment_from is not None and t.appointment_from <= now.timestamp():
        # An open appointment: the model's non-priority class, behind only the appointments before it.
        ahead = session.scalar(select(func.count()).where(
            _tickets.c.office_id == t.office_id, _tickets.c.business_day == t.business_day, _tickets.c.service_id == t.service_id,
            _tickets.c.status == TicketStatus.waiting, _tickets.c.priority_group_id.is_(None), queue_order.ahead(_tickets, t, now.timestamp())))
    else:
        ahead = _AHEAD_IN_CLASS.scalar(session.connection(), {"office_id": t.office_id, "day": t.business_day, "service_id": t.service_id,
                                                              "key": t.queue_key, "prio": prio})
    return estimate(session, office, t.service_id, now, priority=prio, ahead=ahead or 0, key=t.queue_key).eta


@dataclass
class _DeskRow(Desk):
    clerk: int | None = None
    status: str = "open"
    ticket_status: str | None = None
    ticket_service: int | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    counter_id: int = 0


def _desks(session: Session, office, topology: dict[int, dict[int, float]], planned: dict[int, list[tuple[float, float]]],
           service_id: int, day: date, now: datetime) -> list[_DeskRow]:
    """The counters that will call citizens: open or paused now, and those planned to open later
    today (`planned`: today's spans of the counters with hours of their own); else (a break) those
    of the field without planned hours that opened today, back at the next working span."""
    conn = session.connection()
    ts = now.timestamp()
    desks = []
    for cid, status, clerk, streak, t_status, t_service, called_at, started_at in _DESKS.all(conn, {"office_id": office.id}):
        d = _DeskRow(dict(topology.get(cid, {})), ts, streak or 0)
        d.counter_id, d.clerk, d.status = cid, clerk, getattr(status, "value", status)
        d.ticket_status, d.ticket_service = getattr(t_status, "value", t_status), t_service
        d.called_at, d.started_at = called_at, started_at
        if d.status == CounterStatus.paused.value:
            d.called_at = _PAUSED_AT.scalar(conn, {"counter_id": cid})
        d.spans = _open_spans(planned.get(cid), ts, d.status == CounterStatus.paused.value or d.ticket_status is not None)
        desks.append(d)
    opened = {d.counter_id for d in desks}
    for cid, own in planned.items():
        if cid in topology and cid not in opened and any(start > ts for start, _end in own):
            d = _DeskRow(dict(topology[cid]), math.inf)
            d.counter_id, d.status, d.spans = cid, "planned", own
            desks.append(d)
    if any(service_id in d.fields for d in desks):
        return desks
    since = datetime.combine(day, datetime.min.time(), tzinfo=clock.zone(office.timezone))
    back = []
    for cid, fields in topology.items():
        if service_id in fields and cid not in planned and _OPENED_SINCE.scalar(conn, {"counter_id": cid, "since": since}):
            d = _DeskRow(dict(fields), math.inf)
            d.counter_id, d.status = cid, "break"
            back.append(d)
    return desks + back if back else []


def _open_spans(own: list[tuple[float, float]] | None, ts: float, in_hand: bool) -> list[tuple[float, float]] | None:
    """The spans an open counter calls in: its planned ones (None: the office's). Open outside
    them with nobody in hand, its clerk has changed the plan today: the office's hours then;
    with a citizen in hand (or paused) it is finishing up, and keeps to the plan afterwards."""
    if own is None or in_hand or any(start <= ts < end for start, end in own):
        return own
    return None


def _free_at(d: _DeskRow, stats: dict[int, field_stats.FieldStats], ts: float, spans: list[tuple[float, float]]) -> float:
    """When the counter can call next: now when idle, after the rest of its citizen's service,
    after the rest of a typical pause, or at the next working span after a break. Sets how
    uncertain that is (`busy_var`): a rest of service spreads as the field's services do."""
    if d.status == "break":
        return next((start for start, _end in spans if start > ts), math.inf)
    if d.status == "planned":
        return next((start for start, _end in d.spans or () if start > ts), math.inf)
    if d.status == CounterStatus.paused.value:
        since = (ts - d.called_at.timestamp()) if d.called_at else 0.0
        d.busy_var = (PAUSE_TYPICAL_S / 3) ** 2
        return ts + max(PAUSE_TYPICAL_S - since, PAUSE_TYPICAL_S / 3)
    st = stats.get(d.ticket_service) if d.ticket_service is not None else None
    if st is None or d.ticket_status is None:
        return ts
    if d.ticket_status == TicketStatus.serving.value and d.started_at is not None:
        rest = st.residual_s(ts - d.started_at.timestamp(), d.clerk)
        d.busy_var = rest ** 2 * st.var_s / st.mean_s ** 2
        return ts + rest
    if d.ticket_status == TicketStatus.called.value:
        waited = ts - d.called_at.timestamp() if d.called_at else 0.0
        d.busy_var = st.cost(d.clerk).var
        return ts + max(st.cost(d.clerk).mean - waited, 0.0)
    return ts


def forget_database(url: str) -> None:
    """Drop every figure kept for that database (a simulation starting over on it)."""
    for cache in (_topologies, field_stats._cache, usual_pauses._cache):
        for key in [k for k in cache if k[0] == url]:
            del cache[key]
