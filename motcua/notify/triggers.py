"""When to tell a citizen: "called", and "near" as the queue ahead of them shortens.

The engine publishes its changes after each commit (motcua.db); `observe` keeps the ones that
matter here, for offices that have a channel at all, and the notify worker turns them into outbox
rows (`apply`), off the request's path:

- ticket.called: "called" for the ticket (with its counter), and the field's queue moved up;
- ticket.cancelled: the field's queue moved up (a waiting ticket left it);
- ticket.transferred / checked_in: the ticket's field is looked at again (it may be near now);
- ticket.finished / no_show / cancelled: the ticket's sealed phone is cleared (it ended).

"near" (key: the threshold) is queued for a waiting ticket when the people ahead of it are at most
one of the office's `notify_ahead` thresholds (default 5 and 2) and were more than that when it
was issued: the tightest such threshold only, so a queue that jumped from 7 to 1 sends one
message, not two. A field's waiting tickets are read in the queue order at that moment (`queue_order.field_order`),
where the callable tickets before one are exactly `queue_order.ahead` of it, and only as far as
the largest threshold. Only tickets a channel can reach get a row (`reachable`).
A periodic `sweep` does the same for every field and every ticket being called, so a change lost
with a stopped process is made up for; the outbox's unique key makes every repeat harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua.engine import queue_order
from motcua.engine.changes import Change
from motcua.models import Office, Service, Ticket, TicketStatus
from motcua.notify import outbox
from motcua.notify.channels import Channel, channels_for

DEFAULT_AHEAD = (5, 2)
SCAN = 200  # a field's first waiting tickets read for "near" (those still to check in count toward it)
ENDED = (TicketStatus.done, TicketStatus.no_show, TicketStatus.cancelled)
_SHORTENS = ("ticket.called", "ticket.cancelled")
# The ticket itself may now be near: it joined another field (at its front, often) or can be called.
_MOVES = ("ticket.transferred", "ticket.checked_in")
_ENDS = ("ticket.finished", "ticket.no_show", "ticket.cancelled")


@dataclass(frozen=True)
class Seen:
    """A change worth a look: its kind, office and ticket."""

    kind: str
    office_id: int
    ticket_id: int


def observe(changes: Iterable[Change]) -> list[Seen]:
    return [Seen(c.kind, c.office_id, c.data["ticket"]["id"]) for c in changes
            if c.kind in (*_SHORTENS, *_ENDS, *_MOVES) and isinstance(c.data.get("ticket"), dict)]


def thresholds(office: Office) -> list[int]:
    return sorted((int(n) for n in (office.settings or {}).get("notify_ahead", DEFAULT_AHEAD)), reverse=True)


def apply(app: Flask, session: Session, seen: list[Seen], now: datetime) -> int:
    """Queue what these changes call for, in the session's write transaction; answers the rows queued."""
    queued, fields = 0, set()
    ended = [s.ticket_id for s in seen if s.kind in _ENDS]
    if ended:
        forget_ended(session, ended)
    for s in seen:
        if s.kind not in _SHORTENS and s.kind not in _MOVES:
            continue
        t = session.get(Ticket, s.ticket_id)
        if t is None:
            continue
        office = session.get(Office, t.office_id)
        channels = channels_for(app, office.code)
        if s.kind == "ticket.called" and t.status == TicketStatus.called:
            queued += called(session, office, channels, t, now)
        fields.add((office.id, t.service_id, t.business_day))
    for office_id, service_id, day in sorted(fields):
        office = session.get(Office, office_id)
        queued += near(session, office, channels_for(app, office.code), service_id, day, now)
    return queued


def forget_ended(session: Session, ticket_ids: list[int]) -> None:
    """A ticket that ended keeps no phone (nothing will be sent to it any more)."""
    session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids), Ticket.status.in_(ENDED), Ticket.phone_sealed.is_not(None))
                    .values(phone_sealed=None).execution_options(synchronize_session=False))


def ticket_body(office: Office, t: Ticket, now: datetime, *, counter: int | None = None, ahead: int | None = None) -> dict:
    ticket = {"code": t.code, "service": t.service.name}
    if counter is not None:
        ticket["counter"] = counter
    body = {"office": office.code, "ticket": ticket, "at": now.isoformat()}
    if ahead is not None:
        body["ahead"] = ahead
    return body


def called(session: Session, office: Office, channels: list[Channel], t: Ticket, now: datetime) -> int:
    counter = t.counter.number if t.counter else None
    queued = 0
    for ch in channels:
        if ch.wants("called") and t.id in ch.reachable(session, [t.id]):
            queued += outbox.queue(session, office_id=office.id, channel=ch.name, event="called", ticket_id=t.id,
                                   body=ticket_body(office, t, now, counter=counter), phone_mask=t.phone_mask, now=now)
    return queued


def near(session: Session, office: Office, channels: list[Channel], service_id: int, day: date, now: datetime) -> int:
    """Queue "near" for the field's first waiting tickets, as the module's docstring says."""
    wanting = [ch for ch in channels if ch.wants("near")]
    limits = thresholds(office)
    if not wanting or not limits:
        return 0
    tickets = Ticket.__table__
    ahead: dict[int, int] = {}
    callable_seen = 0
    for ticket_id, awaiting in session.execute(
            select(tickets.c.id, tickets.c.awaiting_check_in)
            .where(tickets.c.office_id == office.id, tickets.c.business_day == day, tickets.c.service_id == service_id,
                   tickets.c.status == TicketStatus.waiting)
            .order_by(*queue_order.field_order(tickets, now.timestamp()))
            .limit(SCAN)):
        if callable_seen > limits[0]:
            break
        # A remote number still to check in keeps its place and counts only the callable ones
        # before it, as queue_order.ahead does: "near" is what tells its citizen to come.
        ahead[ticket_id] = callable_seen
        callable_seen += not awaiting
    first = list(ahead)
    queued = 0
    for ch in wanting:
        for ticket_id in sorted(ch.reachable(session, first)):
            t = session.get(Ticket, ticket_id)
            crossed = [n for n in limits if ahead[ticket_id] <= n < t.waiting_ahead]
            if not crossed:
                continue
            queued += outbox.queue(session, office_id=office.id, channel=ch.name, event="near", key=str(min(crossed)),
                                   ticket_id=t.id, body=ticket_body(office, t, now, ahead=ahead[ticket_id]),
                                   phone_mask=t.phone_mask, now=now)
    return queued


def sweep(app: Flask, session: Session, now: datetime) -> int:
    """Every field of every office with a channel, today: what a lost change would have queued."""
    from motcua.engine import clock

    queued = 0
    for office in session.scalars(select(Office).order_by(Office.id)):
        channels = channels_for(app, office.code)
        if not channels:
            continue
        day = clock.business_day(now, office.timezone)
        for service_id in session.scalars(select(Service.id).where(Service.office_id == office.id)):
            queued += near(session, office, channels, service_id, day, now)
        for t in session.scalars(select(Ticket).where(Ticket.office_id == office.id, Ticket.business_day == day,
                                                      Ticket.status == TicketStatus.called)):
            queued += called(session, office, channels, t, now)
    return queued
