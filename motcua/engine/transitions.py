"""The ticket's state machine: which moves are allowed, and `move`, the one way a ticket's
status changes.

    (issued) → waiting → called (recalled: called again) → serving → done
                         called → no_show
    called, serving → waiting in another field (transferred); any open state → cancelled

A move writes, in the caller's transaction: the ticket's row (a compare-and-set on its status, so
a ticket that moved meanwhile is refused, never moved twice), its log entry (`ticket_events`, the
record reports read), its open queue leg, the counter's current ticket, and the change every
display sees (`changes.record`, kind "ticket.<event>"). The statements are prepared ones
(`ticket_sql`): issuing, call next, start and finish take this path for every citizen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from motcua.engine import changes, ticket_sql
from motcua.engine.errors import conflict
from motcua.engine.queue_order import Head
from motcua.models import OPEN_STATUSES, Counter, Ticket, TicketLeg, TicketStatus

W, C, S = TicketStatus.waiting, TicketStatus.called, TicketStatus.serving


class Rule(NamedTuple):
    sources: frozenset[TicketStatus | None]
    target: TicketStatus
    leg: str | None  # which ticket_sql.LEG write closes or marks the open leg (None: a new leg opens)
    outcome: str | None = None  # how the leg ended
    frees_counter: bool = False


RULES: dict[str, Rule] = {  # by the logged event's kind
    "issued": Rule(frozenset({None}), W, None),
    "called": Rule(frozenset({W}), C, "called"),
    "recalled": Rule(frozenset({C}), C, "recalled"),
    "started": Rule(frozenset({C}), S, "started"),
    "finished": Rule(frozenset({S}), TicketStatus.done, "closed", "served", frees_counter=True),
    "no_show": Rule(frozenset({C}), TicketStatus.no_show, "closed", "no_show", frees_counter=True),
    "transferred": Rule(frozenset({C, S}), W, "closed", "transferred", frees_counter=True),  # and a new leg opens
    "cancelled": Rule(frozenset(OPEN_STATUSES), TicketStatus.cancelled, "cancelled", "cancelled", frees_counter=True),
}


class TicketRef(Protocol):
    """What a move needs of a ticket: a `Ticket`, or a `Ref` built from rows."""

    id: int
    office_id: int
    service_id: int
    business_day: date
    priority_group_id: int | None
    code: str
    status: TicketStatus | None


class Ref(NamedTuple):
    id: int
    office_id: int
    service_id: int
    business_day: date
    priority_group_id: int | None
    code: str
    status: TicketStatus | None


@dataclass(frozen=True)
class Moved:
    event_id: int
    before: TicketStatus | None
    leg: Any  # the open leg's row after the move (ticket_sql.LEG_COLUMNS); None when issued
    freed: bool  # the counter let the ticket go


def claim_head(conn: Connection, c: Counter, head: Head, day: date, now: datetime) -> Any:
    """The first half of calling the next ticket: claim the head `queue_order.pick` chose (`conn`
    from ticket_sql.connection) by the classes at `now`. None when another counter claimed it
    first (pick again); otherwise `move(..., "called", claimed=True)` must follow in the same transaction."""
    return ticket_sql.CLAIM_HEAD[head.cls].first(conn, {"office": c.office_id, "service": head.service_id, "day": day, "counter": c.id,
                                                        "now": now.timestamp()})


def move(
    session: Session,
    t: TicketRef,
    kind: str,
    now: datetime,
    change: Callable[[Moved], dict],
    *,
    counter: Counter | None = None,
    user_id: int | None = None,
    device_id: int | None = None,
    reason: str | None = None,
    data: dict | None = None,
    claimed: bool = False,
    streak: int | None = None,
    out_of_order: bool = False,
    requeue: tuple[int, float] | None = None,
    local: dict | None = None,
    conn: Connection | None = None,
) -> Moved:
    """Move ticket `t` by the event `kind` (a key of RULES) and record the change `change(moved)`
    builds. `counter`: the counter acting (a call takes it, with the counter's new priority
    `streak`; finishing, no-show, transfer and cancel free it if it holds the ticket).
    `claimed`: claim_head already moved the row. `requeue`: (field id, queue key) a transfer joins.
    `conn`: ticket_sql.connection(session), when the action holds it already (nothing added since)."""
    rule = RULES[kind]
    before = W if claimed else t.status
    if before not in rule.sources:
        raise conflict("wrong_state", f"Phiếu {t.code} không thể chuyển sang trạng thái này.", f"Ticket {t.code} cannot make this move.")
    if (kind == "transferred") != (requeue is not None):
        raise ValueError("a transfer, and only a transfer, joins another queue (requeue=)")
    conn = conn or ticket_sql.connection(session)
    service_id = requeue[0] if requeue else t.service_id
    row: dict[str, Any] = {"status": rule.target}
    if kind == "called":
        row["counter_id"] = counter.id
    if requeue:
        row.update(service_id=service_id, queue_key=requeue[1], counter_id=None)
    if kind != "issued" and not claimed:  # issuing inserted the row in this transaction
        stmt = ticket_sql.TICKET_REQUEUED if requeue else ticket_sql.TICKET_CALLED if kind == "called" else ticket_sql.TICKET_MOVED
        params = {"ticket": t.id, "from": before, "to": rule.target, "counter": counter.id if counter else None}
        if requeue:
            params.update(service=requeue[0], key=requeue[1])
        if stmt.run(conn, params) != 1:
            raise _moved_meanwhile(t.code, before)

    event_id = ticket_sql.EVENT.scalar(conn, dict(
        office_id=t.office_id, ticket_id=t.id, kind=kind, at=now, from_status=before.value if before else None,
        to_status=rule.target.value, service_id=service_id, counter_id=counter.id if counter else None,
        user_id=user_id, device_id=device_id, reason=reason, data=data))

    leg = None
    if rule.leg is not None:
        values = _leg_values(kind, rule, now, counter, user_id, out_of_order)
        write = ticket_sql.LEG[rule.leg]
        leg = write.stmt.first(conn, {"ticket": t.id, **values})
        values.update({name: getattr(leg, name) for name in write.computed})
        ticket_sql.synced(session, TicketLeg, leg.id, **values)
    if rule.leg is None or requeue:
        ticket_sql.LEG_INSERT.run(conn, dict(ticket_id=t.id, office_id=t.office_id, business_day=t.business_day, seq=leg.seq + 1 if leg else 1,
                                             service_id=service_id, priority=t.priority_group_id is not None, queued_at=now))

    freed = False
    if kind == "called":
        ticket_sql.COUNTER_TAKES.run(conn, {"counter": counter.id, "ticket": t.id, "streak": streak})
        _counter_holds(session, counter, t.id, priority_streak=streak)
    elif rule.frees_counter and counter is not None:
        freed = ticket_sql.COUNTER_FREED.run(conn, {"counter": counter.id, "ticket": t.id}) == 1
        if freed:
            _counter_holds(session, counter, None)

    held = session.identity_map.get(identity_key(Ticket, t.id)) if kind != "issued" else None  # issuing holds rows only
    if held is not None:
        for key, value in row.items():
            set_committed_value(held, key, value)
        # Reload what the changed keys point at (from the identity map, mostly), and the legs
        # when a new one opened.
        stale = (["counter"] if "counter_id" in row else []) + (["service", "legs"] if requeue else [])
        if stale:
            session.expire(held, stale)
    moved = Moved(event_id, before, leg, freed)
    changes.record(session, t.office_id, "ticket." + kind, change(moved), local)
    return moved


def _leg_values(kind: str, rule: Rule, now: datetime, counter: Counter | None, user_id: int | None, out_of_order: bool) -> dict:
    if kind == "called":
        clerk_id = user_id if user_id is not None else counter.clerk_id
        return {"called_at": now, "counter_id": counter.id, "clerk_id": clerk_id, "out_of_order": out_of_order}
    if kind == "started":
        return {"started_at": now}
    if rule.outcome is not None:
        return {"finished_at": now, "outcome": rule.outcome}
    return {}


def _counter_holds(session: Session, c: Counter, ticket_id: int | None, **values: Any) -> None:
    """The statements moved the counter's current ticket (and streak): so does the counter object."""
    for key, value in dict(values, current_ticket_id=ticket_id).items():
        set_committed_value(c, key, value)
    session.expire(c, ["current_ticket"])


def _moved_meanwhile(code: str, before: TicketStatus) -> Exception:
    if before == W:
        return conflict("not_waiting", f"Phiếu {code} vừa được quầy khác gọi.", f"Ticket {code} was just called by another counter.")
    return conflict("wrong_state", f"Phiếu {code} vừa đổi trạng thái, vui lòng tải lại.", f"Ticket {code} has just changed state; please reload.")
