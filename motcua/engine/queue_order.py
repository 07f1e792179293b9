"""The queue order: which waiting ticket a counter calls next. Written once, here.

1. Classes, in this order:
   - priority tickets, except that after `priority_ratio` priority calls in a row at a counter
     a non-priority ticket gets its turn, so nobody starves;
   - appointment tickets whose window is open (`appointment_from <= now`, motcua.booking.arrival
     sets it at check-in to the slot's start − `appointment_early_minutes`; a late arrival gets
     none and is a walk-in). An appointment call counts as a non-priority one for the streak;
   - ordinary tickets: walk-ins, remote numbers, and appointments checked in early, until their
     window opens (then they move up to the appointment class).
2. Fields. Among the heads of the chosen class in the fields a counter serves, the one with the
   largest field weight × waiting time (seconds since its class key).
3. Within a field and class: by class key, ties by who came first (ticket id). The class key is
   the queue key (the moment the ticket joined this queue; a transfer to the front takes a key
   just before the head), and `appointment_from` in the appointment class.

Everything that needs the order asks this module: the claim in call next (`heads`, `pick`,
`in_class`, `class_order`), "people ahead" on the status page and at issuing (`ahead`,
`ahead_when_last`), the clerk's waiting list (`field_order`) and the wait model (`pick_at`; it
counts appointment tickets among the ordinary ones). Which class a ticket is in depends on the
moment: `heads`, the claim and `field_order` take `now`.

A remote number waiting for its check-in at the kiosk (the office's `remote_check_in`) keeps its
place but is not callable (`callable_now`): the claim, the heads, "people ahead", the clerk's
list and the wait model's heads leave it out until it is checked in.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, and_, bindparam, case, false, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import Alias

from motcua.models import Ticket, TicketStatus

Tickets = Table | Alias  # the tickets table, or an alias of it in a subquery
_tickets = Ticket.__table__


PRIORITY, APPOINTMENT, ORDINARY = "priority", "appointment", "ordinary"
CLASSES = (PRIORITY, APPOINTMENT, ORDINARY)


class Head(NamedTuple):
    """The first waiting ticket of one class in one field: its class key stands for the whole class."""

    service_id: int
    priority: bool
    key: float
    appointment: bool = False  # the appointment class (never with priority)

    @property
    def cls(self) -> str:
        return PRIORITY if self.priority else APPOINTMENT if self.appointment else ORDINARY


def is_priority(t: Tickets) -> ColumnElement[bool]:
    return t.c.priority_group_id.is_not(None)


def callable_now(t: Tickets) -> ColumnElement[bool]:
    """A waiting ticket a counter may call: not a remote number still waiting for its check-in."""
    return t.c.awaiting_check_in == false()


def _moment(now: float | None) -> ColumnElement:
    """`now` as epoch seconds: a literal, or the statement's bind "now" (prepared statements)."""
    return bindparam("now") if now is None else literal(now)


def window_open(t: Tickets, now: float | None = None) -> ColumnElement[bool]:
    """An appointment ticket whose window has opened: the appointment class."""
    return and_(t.c.priority_group_id.is_(None), t.c.appointment_from.is_not(None), t.c.appointment_from <= _moment(now))


def _ordinary(t: Tickets, now: float | None = None) -> ColumnElement[bool]:
    return and_(t.c.priority_group_id.is_(None), or_(t.c.appointment_from.is_(None), t.c.appointment_from > _moment(now)))


def in_class(t: Tickets, cls: str, now: float | None = None) -> ColumnElement[bool]:
    """The callable tickets of one class (the claim's WHERE)."""
    if cls == PRIORITY:
        return and_(callable_now(t), is_priority(t))
    return and_(callable_now(t), window_open(t, now) if cls == APPOINTMENT else _ordinary(t, now))


def class_order(t: Tickets, cls: str) -> tuple[ColumnElement, ...]:
    """ORDER BY within one field and class: class key, then who came first."""
    return (t.c.appointment_from if cls == APPOINTMENT else t.c.queue_key, t.c.id)


def _rank(t: Tickets, now: float | None) -> ColumnElement[int]:
    return case((is_priority(t), 0), (window_open(t, now), 1), else_=2)


def _class_key(t: Tickets, now: float | None) -> ColumnElement[float]:
    return case((window_open(t, now), t.c.appointment_from), else_=t.c.queue_key)


def field_order(t: Tickets, now: float) -> tuple[ColumnElement, ...]:
    """ORDER BY of one field's waiting tickets in the order they are called at `now`: priority,
    appointment, ordinary (the ratio may let a non-priority one through earlier), then the class key."""
    return (_rank(t, now), _class_key(t, now), t.c.id)


def ahead(t: Tickets, ticket: Ticket, now: float) -> ColumnElement[bool]:
    """The waiting tickets of the same field called before `ticket` at `now`: earlier in its own
    class, and every ticket of the classes before it (the ratio lets some non-priority ones
    through, so for those this is an upper bound)."""
    def earlier(key: ColumnElement, mine: float) -> ColumnElement[bool]:
        return or_(key < mine, and_(key == mine, t.c.id < ticket.id))

    if ticket.priority_group_id is not None:
        return and_(callable_now(t), is_priority(t), earlier(t.c.queue_key, ticket.queue_key))
    if ticket.appointment_from is not None and ticket.appointment_from <= now:
        return and_(callable_now(t), or_(is_priority(t), and_(window_open(t, now), earlier(t.c.appointment_from, ticket.appointment_from))))
    return and_(callable_now(t), or_(is_priority(t), window_open(t, now), earlier(t.c.queue_key, ticket.queue_key)))


def ahead_when_last(priority: bool, waiting: int, priority_waiting: int) -> int:
    """`ahead` for a ticket joining the end of its class, from the field's kept counts."""
    return priority_waiting if priority else waiting


# Each class's head in each served field: one row per (field, class) with its smallest class key.
# The class is worked out in a subquery so that GROUP BY names a plain column (PostgreSQL does not
# take two renderings of one expression with a bind in it as the same).
_classed = (
    select(_tickets.c.service_id, _rank(_tickets, None).label("rank"), _class_key(_tickets, None).label("key"))
    .where(
        _tickets.c.office_id == bindparam("office_id"),  # leads the queue index: without it, every ticket ever is scanned
        _tickets.c.business_day == bindparam("day"),
        _tickets.c.status == TicketStatus.waiting,
        _tickets.c.service_id.in_(bindparam("served", expanding=True)),
        callable_now(_tickets),
    )
    .subquery("classed")
)
_HEADS = select(_classed.c.service_id, _classed.c.rank, func.min(_classed.c.key)).group_by(_classed.c.service_id, _classed.c.rank)


def heads(conn: Connection, office_id: int, day, served: list[int], now: datetime) -> list[Head]:
    rows = conn.execute(_HEADS, {"office_id": office_id, "day": day, "served": served, "now": now.timestamp()})
    return [Head(sid, rank == 0, key, rank == 1) for sid, rank, key in rows]


def pick(heads: list[Head], weights: dict[int, float], streak: int, ratio: int, now: datetime) -> Head | None:
    """The head a counter calls: `streak` priority calls in a row so far, `ratio` allowed."""
    return pick_at(heads, weights, streak, ratio, now.timestamp())


def pick_at(heads: list[Head], weights: dict[int, float], streak: int, ratio: int, now_ts: float) -> Head | None:
    """`pick` at a moment given as a timestamp: the wait estimates replay the rule many times."""
    if not heads:
        return None
    prio = [h for h in heads if h.priority]
    rest = [h for h in heads if not h.priority]
    pool = prio if prio and (streak < ratio or not rest) else [h for h in rest if h.appointment] or rest
    return max(pool, key=lambda h: (weights[h.service_id] * (now_ts - h.key), -h.key))


def streak_after(streak: int, priority: bool) -> int:
    """The counter's run of priority calls after calling a ticket of this class."""
    return streak + 1 if priority else 0


def join_key(position: str, head_key: float | None, now: datetime) -> float:
    """The queue key of a ticket joining a field's queue (a transfer): at the back it is the
    moment of joining; at the front, just before the field's head (whichever class)."""
    if position == "front" and head_key is not None:
        return min(head_key - 1.0, now.timestamp())
    return now.timestamp()
