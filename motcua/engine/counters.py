"""What a clerk does at a counter: open, call next, recall, start, finish, no-show, transfer,
call a given number, pause, resume, close.

Call next picks, among the fields the counter serves: priority tickets first, except that after
`priority_ratio` priority calls in a row an ordinary ticket gets its turn (so nobody starves);
within a class the head ticket with the largest weight × waiting time; ties by who came first.
The claim is a conditional UPDATE (… WHERE status = 'waiting'), so two counters can never get
the same ticket: the loser of a race sees 0 rows and picks again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from motcua.engine import changes, clock, head_rule
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.estimates import forget_mean
from motcua.engine.tickets import find_service, log_event
from motcua.engine.views import call_dict, call_view, counter_dict, counter_view, service_view, ticket_dict, ticket_view
from motcua.models import (
    Counter,
    CounterEvent,
    CounterService,
    CounterStatus,
    Office,
    PriorityGroup,
    Role,
    Service,
    Ticket,
    TicketEvent,
    TicketLeg,
    TicketStatus,
    User,
)
from motcua.prepared import Prepared

CLAIM_ATTEMPTS = 20

# Call next, start and finish happen for every citizen, and a call reaches the hall displays only
# after its transaction: they run as prepared statements (as issuing does; the two IN-lists stay
# Core), build their views from the rows those statements return, and keep the session's objects
# in step (_synced).
_tickets, _legs, _events, _counters = Ticket.__table__, TicketLeg.__table__, TicketEvent.__table__, Counter.__table__
_counter_services, _services, _groups = CounterService.__table__, Service.__table__, PriorityGroup.__table__

# The counter's fields as the Counter.services relationship loads them (same query, same order),
# then the fields' rows (service_view and issue_blocker read them as they read a Service).
_SERVED = Prepared(select(_counter_services.c.service_id, _counter_services.c.weight).where(
    _counter_services.c.counter_id == bindparam("counter_id")).order_by(_counter_services.c.service_id))
_SERVICES = select(_services).where(_services.c.id.in_(bindparam("ids", expanding=True)))

_is_prio = _tickets.c.priority_group_id.is_not(None)
_HEADS = (
    select(_tickets.c.service_id, _is_prio, func.min(_tickets.c.queue_key))
    .where(
        _tickets.c.office_id == bindparam("office_id"),  # leads the queue index: without it, every ticket ever is scanned
        _tickets.c.business_day == bindparam("day"),
        _tickets.c.status == TicketStatus.waiting,
        _tickets.c.service_id.in_(bindparam("served", expanding=True)),
    )
    .group_by(_tickets.c.service_id, _is_prio)
)
_GROUP_CODE = select(_groups.c.code).where(_groups.c.id == _tickets.c.priority_group_id).scalar_subquery()
_CALLED_TICKET = (_tickets.c.id, _tickets.c.code, _tickets.c.number, _tickets.c.service_id, _tickets.c.issued_at,
                  _tickets.c.priority_group_id, _GROUP_CODE.label("priority"))


def _claim_head_stmt(prio: bool):  # noqa: ANN202
    """The atomic claim of a class's head: UPDATE … WHERE status = 'waiting', so of two counters
    picking the same head one gets no row back and picks again."""
    head = _tickets.alias("head")
    first = (
        select(head.c.id)
        .where(
            head.c.office_id == bindparam("office"), head.c.service_id == bindparam("service"), head.c.business_day == bindparam("day"),
            head.c.status == TicketStatus.waiting, head.c.priority_group_id.is_not(None) if prio else head.c.priority_group_id.is_(None),
        )
        .order_by(head.c.queue_key, head.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return Prepared(update(_tickets).where(_tickets.c.id == first, _tickets.c.status == TicketStatus.waiting)
                    .values(status=TicketStatus.called, counter_id=bindparam("counter")).returning(*_CALLED_TICKET))


_CLAIM_HEAD = {prio: _claim_head_stmt(prio) for prio in (True, False)}
_TICKET_STATUS = Prepared(update(_tickets).where(_tickets.c.id == bindparam("ticket")).values(status=bindparam("to", type_=_tickets.c.status.type)))


def _last_leg_stmt(*columns: str):  # noqa: ANN202
    """Set these columns (bound by their names) of the ticket's open leg, its last, and return
    what ticket_view shows of it."""
    last = _legs.alias("last")
    seq = select(func.max(last.c.seq)).where(last.c.ticket_id == bindparam("ticket")).scalar_subquery()
    return Prepared(update(_legs).where(_legs.c.ticket_id == bindparam("ticket"), _legs.c.seq == seq)
                    .values({name: bindparam(name) for name in columns})
                    .returning(_legs.c.id, _legs.c.called_at, _legs.c.started_at, _legs.c.recalls))


_LEG_CALLED = _last_leg_stmt("called_at", "counter_id", "clerk_id", "out_of_order")
_LEG_STARTED = _last_leg_stmt("started_at")
_LEG_SERVED = _last_leg_stmt("finished_at", "outcome")
_COUNTER_CALLED = Prepared(update(_counters).where(_counters.c.id == bindparam("counter"))
                           .values(current_ticket_id=bindparam("ticket"), priority_streak=bindparam("streak")))
_COUNTER_FREED = Prepared(update(_counters).where(_counters.c.id == bindparam("counter")).values(current_ticket_id=None))
_EVENT = Prepared(_events.insert().returning(_events.c.id), keys=(
    "office_id", "ticket_id", "kind", "at", "from_status", "to_status", "service_id", "counter_id", "user_id", "device_id", "reason", "data"))


# Built once: every counter action starts here, and building the statement cost more than running it.
_FIND_COUNTER = select(Counter).where(Counter.office_id == bindparam("office_id"), Counter.number == bindparam("number"), Counter.active)


def find_counter(session: Session, office: Office, number: int) -> Counter:
    c = session.scalar(_FIND_COUNTER, {"office_id": office.id, "number": number})
    if c is None:
        raise not_found(f"quầy số {number}", f"Counter {number}", "unknown_counter")
    return c


def _counter_log(session: Session, c: Counter, kind: str, now: datetime, user: User | None, reason: str | None = None) -> None:
    session.add(CounterEvent(office_id=c.office_id, counter_id=c.id, kind=kind, at=now, user_id=user.id if user else None, reason=reason))


def _publish_counter(session: Session, c: Counter, kind: str = "counter.updated", extra: dict | None = None) -> None:
    session.flush()
    # Actions set the foreign keys directly: reload what they point at (from the identity map,
    # mostly), not the whole counter and its list of fields (a dozen queries per call).
    session.expire(c, ["current_ticket", "clerk"])
    data = {"counter": counter_view(c)}
    data.update(extra or {})
    changes.record(session, c.office_id, kind, data)


def open_counter(session: Session, c: Counter, user: User, now: datetime | None = None) -> Counter:
    """A clerk takes the counter; one counter per clerk, one clerk per counter."""
    now = now or clock.now()
    if c.clerk_id not in (None, user.id) and c.status != CounterStatus.closed:
        holder = c.clerk.full_name or c.clerk.username
        raise conflict("counter_taken", f"Quầy {c.number} đang do {holder} phụ trách.", f"Counter {c.number} is taken by {holder}.")
    for other in session.scalars(select(Counter).where(Counter.clerk_id == user.id, Counter.id != c.id)):
        close_counter(session, other, user, now)
    if c.status == CounterStatus.closed or c.clerk_id != user.id:
        c.status, c.clerk_id, c.pause_reason = CounterStatus.open, user.id, None
        _counter_log(session, c, "opened", now, user)
        _publish_counter(session, c)
    return c


def close_counter(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Counter:
    now = now or clock.now()
    if c.current_ticket_id is not None:
        raise conflict(
            "counter_busy",
            f"Quầy {c.number} còn phiếu {c.current_ticket.code} chưa xong.",
            f"Counter {c.number} still has ticket {c.current_ticket.code} open.",
        )
    c.status, c.clerk_id, c.pause_reason = CounterStatus.closed, None, None
    _counter_log(session, c, "closed", now, user)
    _publish_counter(session, c)
    return c


def _require_open(c: Counter) -> None:
    if c.status == CounterStatus.closed:
        raise conflict("counter_closed", f"Quầy {c.number} chưa mở.", f"Counter {c.number} is not open.")
    if c.status == CounterStatus.paused:
        raise conflict("counter_paused", f"Quầy {c.number} đang tạm dừng.", f"Counter {c.number} is paused.")


def _current(c: Counter, *allowed: TicketStatus) -> Ticket:
    t = c.current_ticket
    if t is None:
        raise conflict("no_current_ticket", f"Quầy {c.number} không có phiếu nào đang gọi.", f"Counter {c.number} has no current ticket.")
    if t.status not in allowed:
        states = {TicketStatus.called: "đã gọi", TicketStatus.serving: "đang phục vụ"}
        want = " hoặc ".join(states[s] for s in allowed)
        raise conflict(
            "wrong_state",
            f"Phiếu {t.code} không ở trạng thái {want}.",
            f"Ticket {t.code} is not {' or '.join(s.value for s in allowed)}.",
        )
    return t


def _settle_current(session: Session, c: Counter, user: User | None, now: datetime) -> None:
    """Calling the next citizen finishes the one being served; a called-but-absent one must be
    marked no-show (or started) first, so reports never count an absent citizen as served."""
    t = c.current_ticket
    if t is None:
        return
    if t.status == TicketStatus.serving:
        finish(session, c, user, now)
    elif t.status == TicketStatus.called:
        raise conflict(
            "ticket_still_called",
            f"Phiếu {t.code} đang được gọi: bấm 'Bắt đầu' hoặc 'Vắng mặt' trước.",
            f"Ticket {t.code} is still called: start it or mark it no-show first.",
        )


def _heads(conn: Connection, c: Counter, day, served: list[int]) -> list[tuple[int, bool, float]]:
    rows = conn.execute(_HEADS, {"office_id": c.office_id, "day": day, "served": served})
    return [(sid, bool(p), key) for sid, p, key in rows]


def _pick(streak: int, heads: list[tuple[int, bool, float]], weights: dict[int, float], ratio: int, now_ts: float) -> tuple[int, bool, float] | None:
    return head_rule.pick_head(streak, heads, weights, ratio, now_ts)  # the estimates ask the same rule


def _claim(session: Session, t_id: int, c: Counter) -> bool:
    res = session.execute(
        update(Ticket)
        .where(Ticket.id == t_id, Ticket.status == TicketStatus.waiting)
        .values(status=TicketStatus.called, counter_id=c.id)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


def _announce(session: Session, c: Counter, t: Ticket, kind: str, now: datetime, user: User | None, *, reason: str | None = None, data: dict | None = None) -> Ticket:
    """Record the call on the ticket's leg and the log, and tell every display."""
    # A first call was already claimed (status set by the UPDATE): log it as from waiting.
    before = TicketStatus.waiting if kind == "called" else TicketStatus.called
    event = log_event(session, t, kind, TicketStatus.called, now, user=user, counter=c, reason=reason, data=data, from_status=before)
    office = session.get(Office, c.office_id)
    _publish_counter(
        session,
        c,
        "ticket." + kind,
        {
            "call": call_view(event, t.code, c.number),
            "ticket": ticket_view(t),
            "service": service_view(session, office, t.service, now),
        },
    )
    return t


def _take(session: Session, c: Counter, t: Ticket, user: User | None, now: datetime, *, out_of_order: bool) -> None:
    leg = t.leg
    leg.called_at, leg.counter_id = now, c.id
    leg.clerk_id = user.id if user else c.clerk_id
    leg.out_of_order = out_of_order
    t.counter_id = c.id
    c.current_ticket_id = t.id


def _core(session: Session) -> Connection:
    """The connection for Core statements, once the session's pending changes are written
    (flushed later, they would land on top of ours)."""
    session.flush()
    return session.connection()


def _synced(session: Session, model: type, pk: int, **values: Any) -> None:
    """Core wrote these columns: an object of that row the session holds must say the same."""
    obj = session.identity_map.get(identity_key(model, pk))
    if obj is not None:
        for key, value in values.items():
            set_committed_value(obj, key, value)


def _log(conn: Connection, t, kind: str, before: TicketStatus, after: TicketStatus, now: datetime, user: User | None, c: Counter) -> int:  # noqa: ANN001
    """log_event's row, written by Core: the same columns (data NULL as JSON, like the ORM's)."""
    row = dict(office_id=c.office_id, ticket_id=t.id, kind=kind, at=now, from_status=before.value, to_status=after.value,
               service_id=t.service_id, counter_id=c.id, user_id=user.id if user else None, device_id=None, reason=None, data=None)
    return _EVENT.scalar(conn, row)


def _fields(conn: Connection, c: Counter, also: int | None = None) -> tuple[list[Row], dict[int, Row]]:
    """The counter's fields (id, weight) in Counter.services order, and the rows of those fields
    and of `also` (the ticket's, which the counter may not serve) by id."""
    served = _SERVED.all(conn, {"counter_id": c.id})
    ids = [s.service_id for s in served] + ([also] if also is not None else [])
    return served, {s.id: s for s in conn.execute(_SERVICES, {"ids": ids})}


def _counter_now(session: Session, c: Counter, served: list[Row], services: dict[int, Row], ticket: dict | None) -> dict:
    """counter_view, from what the action holds: the clerk is in the session already (the user)."""
    clerk = session.get(User, c.clerk_id) if c.clerk_id is not None else None
    return counter_dict(c, clerk, [services[s.service_id].code for s in served], dict(ticket) if ticket else None)


def _write_leg(session: Session, conn: Connection, ticket_id: int, stmt, **values: Any) -> Row:  # noqa: ANN001
    """Set the open leg's columns with one of the _LEG_ statements; a leg object the session holds follows."""
    leg = stmt.first(conn, {"ticket": ticket_id, **values})
    _synced(session, TicketLeg, leg.id, **values)
    return leg


def _set_current(session: Session, c: Counter, ticket_id: int | None, **values: Any) -> None:
    """Core moved the counter's current ticket (and streak): so does the counter object."""
    for key, value in dict(values, current_ticket_id=ticket_id).items():
        set_committed_value(c, key, value)
    session.expire(c, ["current_ticket"])


def call_next(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket | None:
    ticket_id = call_next_id(session, c, user, now)
    # The caller gets the ticket as the database now has it (refreshed if the session held it).
    return session.get(Ticket, ticket_id, populate_existing=True) if ticket_id is not None else None


def call_next_id(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> int | None:
    """call_next, answering with the called ticket's id: the API answers with the change's views
    and need not load the ticket (a query, before the commit that lets the displays know)."""
    now = now or clock.now()
    _require_open(c)
    _settle_current(session, c, user, now)
    office = session.get(Office, c.office_id)
    day = clock.business_day(now, office.timezone)
    ratio = int(office.settings.get("priority_ratio", 2))
    conn = _core(session)
    served, services = _fields(conn, c)
    weights = {s.service_id: s.weight for s in served}
    for _ in range(CLAIM_ATTEMPTS):
        head = _pick(c.priority_streak, _heads(conn, c, day, list(weights)), weights, ratio, now.timestamp())
        if head is None:
            return None
        service_id, prio, _key = head
        t = _CLAIM_HEAD[prio].first(conn, {"office": c.office_id, "service": service_id, "day": day, "counter": c.id})
        if t is not None:
            break
    else:
        raise QueueError("busy", "Hệ thống đang bận, vui lòng bấm lại.", "The queue is busy, please press again.", status=503)
    _synced(session, Ticket, t.id, status=TicketStatus.called, counter_id=c.id)
    leg = _write_leg(session, conn, t.id, _LEG_CALLED, called_at=now, counter_id=c.id,
                     clerk_id=user.id if user else c.clerk_id, out_of_order=False)
    event_id = _log(conn, t, "called", TicketStatus.waiting, TicketStatus.called, now, user, c)
    streak = c.priority_streak + 1 if prio else 0
    _COUNTER_CALLED.run(conn, {"counter": c.id, "ticket": t.id, "streak": streak})
    _set_current(session, c, t.id, priority_streak=streak)

    service = services[t.service_id]
    view = ticket_dict(t.id, t.code, t.number, service, t.priority, TicketStatus.called, t.issued_at, now, leg.started_at, c.number, leg.recalls)
    changes.record(session, c.office_id, "ticket.called", {
        "counter": _counter_now(session, c, served, services, view),
        "call": call_dict(event_id, "called", t.code, c.number, now),
        "ticket": view,
        "service": service_view(session, office, service, now),
    })
    return t.id


def call_number(session: Session, c: Counter, code: str, reason: str, user: User | None, now: datetime | None = None) -> Ticket:
    """Call a given waiting number out of turn; the reason is kept for audits."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise QueueError("reason_required", "Phải nhập lý do khi gọi số không theo thứ tự.", "A reason is required to call a number out of turn.", status=422)
    _require_open(c)
    _settle_current(session, c, user, now)
    office = session.get(Office, c.office_id)
    day = clock.business_day(now, office.timezone)
    code = code.strip().upper()
    found = session.scalars(
        select(Ticket).where(Ticket.office_id == c.office_id, Ticket.business_day == day, Ticket.code == code)
    ).all()
    if not found:
        raise not_found(f"phiếu số {code} hôm nay", f"Ticket {code} today", "unknown_ticket")
    waiting = [t for t in found if t.status == TicketStatus.waiting]
    if not waiting:
        raise conflict("not_waiting", f"Phiếu {code} không còn chờ.", f"Ticket {code} is not waiting.")
    t = waiting[0]
    if not _claim(session, t.id, c):
        raise conflict("not_waiting", f"Phiếu {code} vừa được quầy khác gọi.", f"Ticket {code} was just called by another counter.")
    session.refresh(t)
    _take(session, c, t, user, now, out_of_order=True)
    return _announce(session, c, t, "called", now, user, reason=reason, data={"out_of_order": True})


def recall(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    t.leg.recalls += 1
    return _announce(session, c, t, "recalled", now, user, data={"recall": t.leg.recalls})


def start(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    conn = _core(session)
    leg = _move(session, conn, c, t, "started", TicketStatus.serving, now, user, _LEG_STARTED, started_at=now)
    _publish_step(session, conn, c, t, "ticket.started", leg.called_at, now, leg.recalls, current=True)
    return t


def finish(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.serving)
    forget_mean(session, t.service_id)
    conn = _core(session)
    leg = _move(session, conn, c, t, "finished", TicketStatus.done, now, user, _LEG_SERVED, finished_at=now, outcome="served")
    _COUNTER_FREED.run(conn, {"counter": c.id})
    _set_current(session, c, None)
    _publish_step(session, conn, c, t, "ticket.finished", leg.called_at, leg.started_at, leg.recalls, current=False)
    return t


def _move(session: Session, conn: Connection, c: Counter, t: Ticket, kind: str, to: TicketStatus, now: datetime,  # noqa: PLR0913
          user: User | None, leg_stmt, **leg_values: Any) -> Row:  # noqa: ANN001
    """What log_event and the leg's attributes did by ORM: the status, the leg, the log entry."""
    _TICKET_STATUS.run(conn, {"ticket": t.id, "to": to})
    _log(conn, t, kind, t.status, to, now, user, c)
    set_committed_value(t, "status", to)
    return _write_leg(session, conn, t.id, leg_stmt, **leg_values)


def _publish_step(session: Session, conn: Connection, c: Counter, t: Ticket, kind: str, called_at: datetime | None,  # noqa: PLR0913
                  started_at: datetime | None, recalls: int, *, current: bool) -> None:
    """The change of a start or finish: the ticket's view, and the counter's (with it while current)."""
    served, services = _fields(conn, c, also=t.service_id)
    group = t.priority_group
    view = ticket_dict(t.id, t.code, t.number, services[t.service_id], group.code if group else None, t.status, t.issued_at,
                       called_at, started_at, t.counter.number if t.counter else None, recalls)
    changes.record(session, c.office_id, kind, {"counter": _counter_now(session, c, served, services, view if current else None), "ticket": view})


def no_show(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    t.leg.finished_at, t.leg.outcome = now, "no_show"
    log_event(session, t, "no_show", TicketStatus.no_show, now, user=user, counter=c)
    c.current_ticket_id = None
    _publish_counter(session, c, "ticket.no_show", {"ticket": ticket_view(t)})
    return t


def transfer(session: Session, c: Counter, service_code: str, position: str | None, user: User | None, now: datetime | None = None) -> Ticket:
    """Send the current citizen to another field's queue, at its front or back."""
    now = now or clock.now()
    t = _current(c, TicketStatus.called, TicketStatus.serving)
    office = session.get(Office, c.office_id)
    target = find_service(session, office, service_code)
    position = position or office.settings.get("transfer_position", "front")
    if position not in ("front", "back"):
        raise QueueError("bad_position", "Vị trí phải là 'front' hoặc 'back'.", "Position must be 'front' or 'back'.", status=422)
    source = t.service
    leg = t.leg
    leg.finished_at, leg.outcome = now, "transferred"
    if position == "front":
        head = session.scalar(
            select(func.min(Ticket.queue_key)).where(
                Ticket.office_id == t.office_id, Ticket.service_id == target.id, Ticket.business_day == t.business_day,
                Ticket.status == TicketStatus.waiting,
            )
        )
        key = min(head - 1.0, now.timestamp()) if head is not None else now.timestamp()
    else:
        key = now.timestamp()
    t.service_id, t.service, t.queue_key = target.id, target, key
    t.counter_id = None
    session.add(
        TicketLeg(
            ticket=t, office_id=t.office_id, business_day=t.business_day, seq=leg.seq + 1,
            service_id=target.id, priority=t.priority_group_id is not None, queued_at=now,
        )
    )
    log_event(session, t, "transferred", TicketStatus.waiting, now, user=user, counter=c,
              data={"from": source.code, "to": target.code, "position": position})
    c.current_ticket_id = None
    _publish_counter(
        session, c, "ticket.transferred",
        {"ticket": ticket_view(t), "service": service_view(session, office, target, now),
         "from_service": service_view(session, office, source, now)},
    )
    return t


def pause(session: Session, c: Counter, reason: str, user: User | None, now: datetime | None = None) -> Counter:
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise QueueError("reason_required", "Phải nhập lý do tạm dừng.", "A reason is required to pause.", status=422)
    if c.status != CounterStatus.open:
        _require_open(c)
    c.status, c.pause_reason = CounterStatus.paused, reason
    _counter_log(session, c, "paused", now, user, reason)
    _publish_counter(session, c)
    return c


def resume(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Counter:
    now = now or clock.now()
    if c.status != CounterStatus.paused:
        raise conflict("not_paused", f"Quầy {c.number} không tạm dừng.", f"Counter {c.number} is not paused.")
    c.status, c.pause_reason = CounterStatus.open, None
    _counter_log(session, c, "resumed", now, user)
    _publish_counter(session, c)
    return c


def may_operate(user: User, c: Counter) -> bool:
    """Clerks work only at the counter they hold (or are assigned to); managers anywhere in their office."""
    if user.role in (Role.manager, Role.admin):
        return user.office_id in (None, c.office_id)
    if user.office_id != c.office_id:
        return False
    return c.clerk_id == user.id or (c.clerk_id is None and user.counter_id in (None, c.id))
