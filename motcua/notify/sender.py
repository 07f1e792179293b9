"""Sending the outbox: at most once per row, whatever the number of processes.

A sender claims a due row with a compare-and-set UPDATE (pending → sending, with a lease and the
attempt counted): only one process's UPDATE matches, and a row whose sender died comes back when
its lease runs out. The delivery runs outside any transaction (a slow gateway holds no lock), and
its outcome is written only while the claim still holds. Before sending, the ticket is read again:
nothing goes to a ticket that ended, a "near" to a ticket no longer waiting, or a "called" to one
no longer called, and those rows are dropped.

Retries wait 10 s, 30 s, 2 min, 10 min; the fifth failed attempt marks the row failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from motcua.db import Database
from motcua.models import Office, Ticket, TicketStatus
from motcua.notify import outbox
from motcua.notify.channels import Channel, Drop, Retry, channels_for
from motcua.notify.outbox import Notification

log = logging.getLogger(__name__)

BACKOFF_S = (10, 30, 120, 600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
LEASE_S = 60
BATCH = 50
_t = Notification.__table__


def _due(now: datetime):
    return or_(and_(_t.c.status == outbox.PENDING, _t.c.next_attempt_at <= now),
               and_(_t.c.status == outbox.SENDING, _t.c.lease_until < now))


@dataclass
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    skipped: int = 0  # claimed by another sender first
    ids: list[int] = field(default_factory=list)


def send_due(app: Flask, db: Database, now: datetime) -> Outcome:
    """One pass over the rows due now."""
    with db.read() as s:
        ids = list(s.scalars(select(_t.c.id).where(_due(now)).order_by(_t.c.next_attempt_at, _t.c.id).limit(BATCH)))
    out = Outcome()
    for note_id in ids:
        result = send_one(app, db, note_id, now)
        setattr(out, result, getattr(out, result) + 1)
        if result != "skipped":
            out.ids.append(note_id)
    return out


def send_one(app: Flask, db: Database, note_id: int, now: datetime) -> str:
    """Claim, check, deliver and record one row; answers what became of it."""
    with db.write() as s:
        claimed = s.execute(update(_t).where(_t.c.id == note_id, _due(now)).values(
            status=outbox.SENDING, lease_until=now + timedelta(seconds=LEASE_S), attempts=_t.c.attempts + 1))
        if claimed.rowcount != 1:
            return "skipped"
    with db.read() as s:
        note = s.get(Notification, note_id)
        office_code = s.scalar(select(Office.code).where(Office.id == note.office_id))
        ticket = s.get(Ticket, note.ticket_id) if note.ticket_id is not None else None
        sealed = note.phone_sealed if ticket is None else ticket.phone_sealed
        stale = stale_reason(note, ticket, s)
    channel = _channel(app, office_code, note.channel)
    try:
        if stale:
            raise Drop(stale)
        if channel is None:
            raise Drop("channel no longer configured")
        channel.deliver(note, sealed)
    except Retry as exc:
        return _record(db, note, now, retry=exc.reason)
    except Drop as exc:
        return _record(db, note, now, drop=exc.reason)
    except Exception as exc:  # a channel's bug: retried like an outage, and logged without the message's body
        log.exception("notification %s: channel %s crashed", note.id, note.channel)
        return _record(db, note, now, retry=type(exc).__name__)
    return _record(db, note, now)


# Other subjects' checks before sending, by subject kind ("a": appointments, registered by their
# module): answer why the row must not be sent (the appointment was cancelled), or None.
StaleCheck = Callable[[Session, Notification], "str | None"]
stale_checks: dict[str, StaleCheck] = {}


def stale_reason(note: Notification, ticket: Ticket | None, session: Session | None = None) -> str | None:
    if ticket is None:
        check = stale_checks.get(note.subject.partition(":")[0])
        return check(session, note) if check is not None and session is not None else None
    if ticket.status in (TicketStatus.done, TicketStatus.no_show, TicketStatus.cancelled):
        return f"ticket {ticket.status.value}"
    if note.event == "near" and ticket.status != TicketStatus.waiting:
        return f"ticket already {ticket.status.value}"
    if note.event == "called" and ticket.status != TicketStatus.called:
        return f"ticket {ticket.status.value}"
    return None


def _channel(app: Flask, office_code: str, name: str) -> Channel | None:
    return next((c for c in channels_for(app, office_code) if c.name == name), None)


def _record(db: Database, note: Notification, now: datetime, *, retry: str | None = None, drop: str | None = None) -> str:
    attempts = note.attempts  # as claimed (the row was read after the claim)
    if drop is not None:
        values, result = dict(status=outbox.DROPPED, last_error=drop[:300]), "dropped"
    elif retry is not None and attempts >= MAX_ATTEMPTS:
        values, result = dict(status=outbox.FAILED, last_error=retry[:300]), "failed"
    elif retry is not None:
        values = dict(status=outbox.PENDING, last_error=retry[:300], next_attempt_at=now + timedelta(seconds=BACKOFF_S[attempts - 1]))
        result = "retried"
    else:
        values, result = dict(status=outbox.SENT, sent_at=now, last_error=None), "sent"
    if result != "retried":
        values["phone_sealed"] = None  # final: an appointment's copy of the number goes
    with db.write() as s:
        s.execute(update(_t).where(_t.c.id == note.id, _t.c.status == outbox.SENDING, _t.c.attempts == attempts)
                  .values(lease_until=None, **values))
    log.info("notification %s (%s %s, attempt %d): %s%s", note.id, note.channel, note.event, attempts, result,
             f" ({values.get('last_error')})" if values.get("last_error") else "")
    return result
