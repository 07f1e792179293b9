"""What a clerk does at a counter: open, call next, recall, start, finish, no-show, transfer,
call a given number, pause, resume, close.

Which ticket call next takes is the queue order's rule (motcua.engine.queue_order); every move of
a ticket goes through motcua.engine.transitions. Call next, start and finish happen for every
citizen, so they build their change's views from the rows the move's statements return, not by
loading objects.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from motcua.engine import changes, check_in, clock, queue_order, ticket_sql, transitions
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.estimates import forget_mean
from motcua.engine.tickets import find_service
from motcua.engine.views import appointment_mark, call_dict, counter_dict, counter_view, service_view, ticket_dict, ticket_view
from motcua.models import Counter, CounterEvent, CounterStatus, Office, Role, Ticket, TicketStatus, User

CLAIM_ATTEMPTS = 20


# Built once: every counter action starts here, and building the statement cost more than running it.
_FIND_COUNTER = select(Counter).where(Counter.office_id == bindparam("office_id"), Counter.number == bindparam("number"), Counter.active)


def find_counter(session: Session, office: Office, number: int) -> Counter:
    c = session.scalar(_FIND_COUNTER, {"office_id": office.id, "number": number})
    if c is None:
        raise not_found(f"quầy số {number}", f"Counter {number}", "unknown_counter")
    return c


def _counter_log(session: Session, c: Counter, kind: str, now: datetime, user: User | None, reason: str | None = None) -> None:
    session.add(CounterEvent(office_id=c.office_id, counter_id=c.id, kind=kind, at=now, user_id=user.id if user else None, reason=reason))


def _publish_counter(session: Session, c: Counter) -> None:
    session.flush()
    # Actions set the foreign keys directly: reload what they point at (from the identity map,
    # mostly), not the whole counter and its list of fields (a dozen queries per call).
    session.expire(c, ["current_ticket", "clerk"])
    changes.record(session, c.office_id, "counter.updated", {"counter": counter_view(c)})


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


def _fields(conn: Connection, c: Counter, also: int | None = None) -> tuple[list[Row], dict[int, Row]]:
    """The counter's fields (id, weight) in Counter.services order, and the rows of those fields
    and of `also` (the ticket's, which the counter may not serve) by id."""
    served = ticket_sql.SERVED.all(conn, {"counter_id": c.id})
    ids = [s.service_id for s in served] + ([also] if also is not None else [])
    return served, {s.id: s for s in conn.execute(ticket_sql.SERVICES, {"ids": ids})}


def _counter_now(session: Session, c: Counter, served: list[Row], services: dict[int, Row], ticket: dict | None) -> dict:
    """counter_view, from what the action holds: the clerk is in the session already (the user)."""
    clerk = session.get(User, c.clerk_id) if c.clerk_id is not None else None
    return counter_dict(c, clerk, [services[s.service_id].code for s in served], dict(ticket) if ticket else None)


def _user_id(user: User | None) -> int | None:
    return user.id if user else None


def call_next(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> int | None:
    """Call the next ticket by the queue order; answers with its id (None: nobody waits). The API
    answers with the change's views, so the ticket is not loaded (a query, before the commit that
    lets the displays know)."""
    now = now or clock.now()
    _require_open(c)
    _settle_current(session, c, user, now)
    office = session.get(Office, c.office_id)
    day = clock.business_day(now, office.timezone)
    ratio = int(office.settings.get("priority_ratio", 2))
    conn = ticket_sql.connection(session)
    served, services = _fields(conn, c)
    weights = {s.service_id: s.weight for s in served}
    for _ in range(CLAIM_ATTEMPTS):
        head = queue_order.pick(queue_order.heads(conn, c.office_id, day, list(weights), now), weights, c.priority_streak, ratio, now)
        if head is None:
            return None
        t = transitions.claim_head(conn, c, head, day, now)
        if t is not None:
            check_in.mark_passed(conn, office, head, day, now)
            break
    else:
        raise QueueError("busy", "Hệ thống đang bận, vui lòng bấm lại.", "The queue is busy, please press again.", status=503)
    service = services[t.service_id]

    def change(moved: transitions.Moved) -> dict:
        view = ticket_dict(t.id, t.code, t.number, service, t.priority, TicketStatus.called, t.issued_at, now, moved.leg.started_at,
                           c.number, moved.leg.recalls, appointment_mark(session, t.appointment_id))
        return {
            "counter": _counter_now(session, c, served, services, view),
            "call": call_dict(moved.event_id, "called", t.code, c.number, now),
            "ticket": view,
            "service": service_view(session, office, service, now),
        }

    transitions.move(session, t, "called", now, change, counter=c, user_id=_user_id(user), claimed=True,
                     streak=queue_order.streak_after(c.priority_streak, head.priority), conn=conn)
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
    # Out of turn: the counter's run of priority calls stays as it was.
    transitions.move(session, t, "called", now, lambda moved: _call_change(session, office, c, t, "called", moved, now),
                     counter=c, user_id=_user_id(user), reason=reason, data={"out_of_order": True}, streak=c.priority_streak, out_of_order=True)
    return t


def recall(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    office = session.get(Office, c.office_id)
    transitions.move(session, t, "recalled", now, lambda moved: _call_change(session, office, c, t, "recalled", moved, now),
                     counter=c, user_id=_user_id(user), data={"recall": t.leg.recalls + 1})
    return t


def _call_change(session: Session, office: Office, c: Counter, t: Ticket, kind: str, moved: transitions.Moved, now: datetime) -> dict:
    """A call or recall outside call next, from the objects (synced by the move)."""
    return {
        "counter": counter_view(c),
        "call": call_dict(moved.event_id, kind, t.code, c.number, now),
        "ticket": ticket_view(t),
        "service": service_view(session, office, t.service, now),
    }


def start(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    conn = ticket_sql.connection(session)
    transitions.move(session, t, "started", now,
                     lambda moved: _step_change(session, conn, c, t, moved.leg.called_at, now, moved.leg.recalls, current=True),
                     counter=c, user_id=_user_id(user), conn=conn)
    return t


def finish(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.serving)
    forget_mean(session, t.service_id)
    conn = ticket_sql.connection(session)
    transitions.move(session, t, "finished", now,
                     lambda moved: _step_change(session, conn, c, t, moved.leg.called_at, moved.leg.started_at, moved.leg.recalls, current=False),
                     counter=c, user_id=_user_id(user), conn=conn)
    return t


def _step_change(session: Session, conn: Connection, c: Counter, t: Ticket, called_at: datetime | None,
                 started_at: datetime | None, recalls: int, *, current: bool) -> dict:
    """The change of a start or finish: the ticket's view, and the counter's (with it while current)."""
    served, services = _fields(conn, c, also=t.service_id)
    group = t.priority_group
    view = ticket_dict(t.id, t.code, t.number, services[t.service_id], group.code if group else None, t.status, t.issued_at,
                       called_at, started_at, t.counter.number if t.counter else None, recalls, appointment_mark(session, t.appointment_id))
    return {"counter": _counter_now(session, c, served, services, view if current else None), "ticket": view}


def no_show(session: Session, c: Counter, user: User | None, now: datetime | None = None) -> Ticket:
    now = now or clock.now()
    t = _current(c, TicketStatus.called)
    _check_called_long_enough(session, c, t, now)
    transitions.move(session, t, "no_show", now, lambda moved: {"counter": counter_view(c), "ticket": ticket_view(t)},
                     counter=c, user_id=_user_id(user))
    return t


def _check_called_long_enough(session: Session, c: Counter, t: Ticket, now: datetime) -> None:
    """The office's `no_show_min_seconds`: the citizen gets that long to reach the counter."""
    wait = int(session.get(Office, c.office_id).settings.get("no_show_min_seconds", 0) or 0)
    called_at = t.leg.called_at
    if wait <= 0 or called_at is None:
        return
    left = wait - (now - called_at).total_seconds()
    if left > 0:
        n = math.ceil(left)
        raise QueueError(
            "called_too_recently",
            f"Phiếu {t.code} vừa được gọi: chờ thêm {n} giây để công dân kịp đến quầy rồi mới đánh dấu vắng mặt.",
            f"Ticket {t.code} was just called: wait {n} more seconds for the citizen to reach the counter before marking them absent.",
            status=409,
        )


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
    head_key = None
    if position == "front":
        head_key = ticket_sql.FIELD_HEAD_KEY.scalar(ticket_sql.connection(session),
                                                   {"office": t.office_id, "service": target.id, "day": t.business_day})

    def change(moved: transitions.Moved) -> dict:
        return {"counter": counter_view(c), "ticket": ticket_view(t), "service": service_view(session, office, target, now),
                "from_service": service_view(session, office, source, now)}

    transitions.move(session, t, "transferred", now, change, counter=c, user_id=_user_id(user),
                     data={"from": source.code, "to": target.code, "position": position},
                     requeue=(target.id, queue_order.join_key(position, head_key, now)))
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
