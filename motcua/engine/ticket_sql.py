"""The statements that move a ticket, prepared once (a performance layer under `transitions`).

Issuing, call next, start and finish happen for every citizen, and a call reaches the hall
displays only after its transaction: they run as `Prepared` statements on the session's
connection (motcua.prepared), which cost a fraction of the ORM's unit of work or of Core's
per-statement machinery. Every move, hot or not, runs these same statements, so there is one
way a ticket's row, leg, log and counter are written. `synced` keeps the objects a session
already holds in step with what they wrote.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from motcua.engine import queue_order
from motcua.models import Counter, CounterService, PriorityGroup, Service, Ticket, TicketEvent, TicketLeg, TicketStatus
from motcua.prepared import Prepared

_tickets, _legs, _events, _counters = Ticket.__table__, TicketLeg.__table__, TicketEvent.__table__, Counter.__table__
_counter_services, _services, _groups = CounterService.__table__, Service.__table__, PriorityGroup.__table__
_status = _tickets.c.status.type

# --- the ticket's row: every move is a compare-and-set on its status, so a ticket that moved
# meanwhile (another counter, the citizen cancelling) changes no row and the move is refused.

_GROUP_CODE = select(_groups.c.code).where(_groups.c.id == _tickets.c.priority_group_id).scalar_subquery()
# What call next needs of the ticket it claimed: what the move reads of a ticket, and the change's view.
CALLED_COLUMNS = (_tickets.c.id, _tickets.c.office_id, _tickets.c.service_id, _tickets.c.business_day, _tickets.c.priority_group_id,
                  _tickets.c.code, _tickets.c.number, _tickets.c.issued_at, _GROUP_CODE.label("priority"), _tickets.c.appointment_id)


def _claim_head(cls: str) -> Prepared:
    """The head of a field's class, claimed: of two counters picking the same head, one gets
    no row back (its status is no longer 'waiting') and picks again."""
    head = _tickets.alias("head")
    first = (
        select(head.c.id)
        .where(
            head.c.office_id == bindparam("office"), head.c.service_id == bindparam("service"), head.c.business_day == bindparam("day"),
            head.c.status == TicketStatus.waiting, queue_order.in_class(head, cls),
        )
        .order_by(*queue_order.class_order(head, cls))
        .limit(1)
        .scalar_subquery()
    )
    return Prepared(update(_tickets).where(_tickets.c.id == first, _tickets.c.status == TicketStatus.waiting)
                    .values(status=TicketStatus.called, counter_id=bindparam("counter")).returning(*CALLED_COLUMNS))


CLAIM_HEAD = {cls: _claim_head(cls) for cls in queue_order.CLASSES}
_moved = (_tickets.c.id == bindparam("ticket"), _tickets.c.status == bindparam("from", type_=_status))
TICKET_MOVED = Prepared(update(_tickets).where(*_moved).values(status=bindparam("to", type_=_status)))
TICKET_CALLED = Prepared(update(_tickets).where(*_moved).values(status=bindparam("to", type_=_status), counter_id=bindparam("counter")))
# A transferred appointment joins the other field where the transfer puts it, as any citizen.
TICKET_REQUEUED = Prepared(update(_tickets).where(*_moved).values(
    status=bindparam("to", type_=_status), service_id=bindparam("service"), queue_key=bindparam("key"), counter_id=None,
    appointment_from=None))
FIELD_HEAD_KEY = Prepared(select(func.min(_tickets.c.queue_key)).where(
    _tickets.c.office_id == bindparam("office"), _tickets.c.service_id == bindparam("service"),
    _tickets.c.business_day == bindparam("day"), _tickets.c.status == TicketStatus.waiting))

# --- the leg: the open one (its last) is set, and answers with every column a move may write.

LEG_COLUMNS = ("called_at", "started_at", "finished_at", "recalls", "outcome", "counter_id", "clerk_id", "out_of_order")


def _last_leg(values: dict) -> Prepared:
    last = _legs.alias("last")
    seq = select(func.max(last.c.seq)).where(last.c.ticket_id == bindparam("ticket")).scalar_subquery()
    return Prepared(update(_legs).where(_legs.c.ticket_id == bindparam("ticket"), _legs.c.seq == seq).values(values)
                    .returning(_legs.c.id, _legs.c.seq, *(_legs.c[name] for name in LEG_COLUMNS)))


def _bound(*names: str) -> dict:
    return {name: bindparam(name) for name in names}


class LegWrite(NamedTuple):
    stmt: Prepared
    computed: tuple[str, ...] = ()  # columns the statement computes (the rest are set as given)


LEG = {  # by the event's kind
    "called": LegWrite(_last_leg(_bound("called_at", "counter_id", "clerk_id", "out_of_order"))),
    "recalled": LegWrite(_last_leg({"recalls": _legs.c.recalls + 1}), ("recalls",)),
    "started": LegWrite(_last_leg(_bound("started_at"))),
    "closed": LegWrite(_last_leg(_bound("finished_at", "outcome"))),
    # A cancelled leg keeps an end it already had.
    "cancelled": LegWrite(_last_leg({"finished_at": func.coalesce(_legs.c.finished_at, bindparam("finished_at")),
                                     "outcome": bindparam("outcome")}), ("finished_at",)),
}
LEG_INSERT = Prepared(_legs.insert(), keys=("ticket_id", "office_id", "business_day", "seq", "service_id", "priority", "queued_at"))

# --- the log and the counter.

EVENT = Prepared(_events.insert().returning(_events.c.id), keys=(
    "office_id", "ticket_id", "kind", "at", "from_status", "to_status", "service_id", "counter_id", "user_id", "device_id", "reason", "data"))
COUNTER_TAKES = Prepared(update(_counters).where(_counters.c.id == bindparam("counter"))
                         .values(current_ticket_id=bindparam("ticket"), priority_streak=bindparam("streak")))
# Only the counter holding this ticket lets it go.
COUNTER_FREED = Prepared(update(_counters).where(_counters.c.id == bindparam("counter"), _counters.c.current_ticket_id == bindparam("ticket"))
                         .values(current_ticket_id=None))

# --- what a counter serves: its fields as the Counter.services relationship loads them (same
# query, same order), then those fields' rows (service_view and issue_blocker read them as they
# read a Service). The IN-list stays Core.

SERVED = Prepared(select(_counter_services.c.service_id, _counter_services.c.weight).where(
    _counter_services.c.counter_id == bindparam("counter_id")).order_by(_counter_services.c.service_id))
SERVICES = select(_services).where(_services.c.id.in_(bindparam("ids", expanding=True)))


def connection(session: Session) -> Connection:
    """The connection for these statements, once the session's pending changes are written
    (flushed later, they would land on top of ours)."""
    session.flush()
    return session.connection()


def synced(session: Session, model: type, pk: int, **values: Any) -> None:
    """A statement wrote these columns: an object of that row the session holds must say the same."""
    obj = session.identity_map.get(identity_key(model, pk))
    if obj is not None:
        for key, value in values.items():
            set_committed_value(obj, key, value)
