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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from motcua.engine import changes, clock
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.estimates import forget_mean
from motcua.engine.tickets import find_service, log_event
from motcua.engine.views import call_view, counter_view, service_view, ticket_view
from motcua.models import (
    Counter,
    CounterEvent,
    CounterStatus,
    Office,
    Role,
    Ticket,
    TicketLeg,
    TicketStatus,
    User,
)

CLAIM_ATTEMPTS = 20


def find_counter(session: Session, office: Office, number: int) -> Counter:
    c = session.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == number, Counter.active))
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


def _heads(session: Session, c: Counter, day) -> list[tuple[int, bool, float]]:
    served = [cs.service_id for cs in c.services]
    is_prio = Ticket.priority_group_id.is_not(None)
    rows = session.execute(
        select(Ticket.service_id, is_prio, func.min(Ticket.queue_key))
        .where(
            Ticket.office_id == c.office_id,
            Ticket.business_day == day,
            Ticket.status == TicketStatus.waiting,
            Ticket.service_id.in_(served),
        )
        .group_by(Ticket.service_id, is_prio)
    ).all()
    return [(sid, bool(p), key) for sid, p, key in rows]


def _pick(c: Counter, heads: list[tuple[int, bool, float]], ratio: int, now_ts: float) -> tuple[int, bool, float] | None:
    if not heads:
        return None
    prio = [h for h in heads if h[1]]
    ordinary = [h for h in heads if not h[1]]
    pool = prio if prio and (c.priority_streak < ratio or not ordinary) else ordinary
    weights = {cs.service_id: cs.weight for cs in c.services}
    return max(pool, key=lambda h: (weights[h[0]] * (now_ts - h[2]), -h[2]))


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


def call_next(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket | None:
    now = now or clock.now()
    _require_open(c)
    _settle_current(session, c, user, now)
    office = session.get(Office, c.office_id)
    day = clock.business_day(now, office.timezone)
    ratio = int(office.settings.get("priority_ratio", 2))
    for _ in range(CLAIM_ATTEMPTS):
        head = _pick(c, _heads(session, c, day), ratio, now.timestamp())
        if head is None:
            return None
        service_id, prio, key = head
        t_id = session.scalar(
            select(Ticket.id)
            .where(
                Ticket.office_id == c.office_id,  # leads the queue index: without it, every ticket ever is scanned
                Ticket.service_id == service_id,
                Ticket.business_day == day,
                Ticket.status == TicketStatus.waiting,
                Ticket.priority_group_id.is_not(None) if prio else Ticket.priority_group_id.is_(None),
            )
            .order_by(Ticket.queue_key, Ticket.id)
            .limit(1)
        )
        if t_id is not None and _claim(session, t_id, c):
            break
    else:
        raise QueueError("busy", "Hệ thống đang bận, vui lòng bấm lại.", "The queue is busy, please press again.", status=503)
    t = session.get(Ticket, t_id, populate_existing=True)
    c.priority_streak = c.priority_streak + 1 if prio else 0
    _take(session, c, t, user, now, out_of_order=False)
    return _announce(session, c, t, "called", now, user)


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
    t.leg.started_at = now
    log_event(session, t, "started", TicketStatus.serving, now, user=user, counter=c)
    _publish_counter(session, c, "ticket.started", {"ticket": ticket_view(t)})
    return t


def finish(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.serving)
    t.leg.finished_at, t.leg.outcome = now, "served"
    forget_mean(session, t.service_id)
    log_event(session, t, "finished", TicketStatus.done, now, user=user, counter=c)
    c.current_ticket_id = None
    _publish_counter(session, c, "ticket.finished", {"ticket": ticket_view(t)})
    return t


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
