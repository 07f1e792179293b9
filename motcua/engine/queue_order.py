"""The queue order: which waiting ticket a counter calls next. Written once, here.

1. Classes. Priority tickets go first, except that after `priority_ratio` priority calls in a
   row at a counter an ordinary ticket gets its turn, so nobody starves.
2. Fields. Among the heads of the chosen class in the fields a counter serves, the one with the
   largest field weight × waiting time (seconds since its queue key).
3. Within a field and class: by queue key (the moment the ticket joined this queue; a transfer to
   the front takes a key just before the head), ties by who came first (ticket id).

Everything that needs the order asks this module: the claim in call next (`heads`, `pick`,
`in_class`, `class_order`), "people ahead" on the status page and at issuing (`ahead`,
`ahead_when_last`), and the clerk's waiting list (`field_order`).

A remote number waiting for its check-in at the kiosk (the office's `remote_check_in`) keeps its
place but is not callable (`callable_now`): the claim, the heads, "people ahead", the clerk's
list and the wait model's heads leave it out until it is checked in.

Appointments inside their window will be a class of their own: add it to `Head`'s classes and
`pick`, give `in_class`/`field_order` its condition, and the three users follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, and_, bindparam, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import Alias

from motcua.models import Ticket, TicketStatus

Tickets = Table | Alias  # the tickets table, or an alias of it in a subquery
_tickets = Ticket.__table__


class Head(NamedTuple):
    """The first waiting ticket of one class in one field: its queue key stands for the whole class."""

    service_id: int
    priority: bool
    key: float


def is_priority(t: Tickets) -> ColumnElement[bool]:
    return t.c.priority_group_id.is_not(None)


def callable_now(t: Tickets) -> ColumnElement[bool]:
    """A waiting ticket a counter may call: not a remote number still waiting for its check-in."""
    return t.c.awaiting_check_in == false()


def in_class(t: Tickets, priority: bool) -> ColumnElement[bool]:
    """The callable tickets of one class (the claim's WHERE)."""
    return and_(callable_now(t), t.c.priority_group_id.is_not(None) if priority else t.c.priority_group_id.is_(None))


def class_order(t: Tickets) -> tuple[ColumnElement, ...]:
    """ORDER BY within one field and class: queue key, then who came first."""
    return (t.c.queue_key, t.c.id)


def field_order(t: Tickets) -> tuple[ColumnElement, ...]:
    """ORDER BY of one field's waiting tickets in the order they are called: the priority class
    first (IS NULL is false for it; the ratio may let an ordinary one through earlier), then class_order."""
    return (t.c.priority_group_id.is_(None), *class_order(t))


def ahead(t: Tickets, ticket: Ticket) -> ColumnElement[bool]:
    """The waiting tickets of the same field called before `ticket`: earlier in its own class, and
    every priority ticket when it is ordinary (the ratio lets some ordinary ones through, so for
    an ordinary ticket this is an upper bound)."""
    earlier = or_(t.c.queue_key < ticket.queue_key, and_(t.c.queue_key == ticket.queue_key, t.c.id < ticket.id))
    if ticket.priority_group_id is None:
        return and_(callable_now(t), or_(is_priority(t), earlier))
    return and_(callable_now(t), is_priority(t), earlier)


def ahead_when_last(priority: bool, waiting: int, priority_waiting: int) -> int:
    """`ahead` for a ticket joining the end of its class, from the field's kept counts."""
    return priority_waiting if priority else waiting


# Each class's head in each served field: one row per (field, class) with its smallest key.
_HEADS = (
    select(_tickets.c.service_id, is_priority(_tickets), func.min(_tickets.c.queue_key))
    .where(
        _tickets.c.office_id == bindparam("office_id"),  # leads the queue index: without it, every ticket ever is scanned
        _tickets.c.business_day == bindparam("day"),
        _tickets.c.status == TicketStatus.waiting,
        _tickets.c.service_id.in_(bindparam("served", expanding=True)),
        callable_now(_tickets),
    )
    .group_by(_tickets.c.service_id, is_priority(_tickets))
)


def heads(conn: Connection, office_id: int, day, served: list[int]) -> list[Head]:
    rows = conn.execute(_HEADS, {"office_id": office_id, "day": day, "served": served})
    return [Head(sid, bool(p), key) for sid, p, key in rows]


def pick(heads: list[Head], weights: dict[int, float], streak: int, ratio: int, now: datetime) -> Head | None:
    """The head a counter calls: `streak` priority calls in a row so far, `ratio` allowed."""
    return pick_at(heads, weights, streak, ratio, now.timestamp())


def pick_at(heads: list[Head], weights: dict[int, float], streak: int, ratio: int, now_ts: float) -> Head | None:
    """`pick` at a moment given as a timestamp: the wait estimates replay the rule many times."""
    if not heads:
        return None
    prio = [h for h in heads if h.priority]
    ordinary = [h for h in heads if not h.priority]
    pool = prio if prio and (streak < ratio or not ordinary) else ordinary
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
