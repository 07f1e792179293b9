"""Checking in a remote number at the kiosk, and expiring one that never came.

With the office's `remote_check_in`, a remote number keeps its place in the queue but counters
skip it (`queue_order.callable_now`) until the citizen checks in at the kiosk: the kiosk's
scanner reads the status page's QR (the ticket's status address) or the citizen types the
6-character code. Checking in changes no status (the ticket was and stays waiting): it clears
`awaiting_check_in` as a compare-and-set and tells the displays (`ticket.checked_in`).

The moment a counter calls past an unchecked number of the same field (one that would have been
called), `check_in_due_at` is set to that moment plus `check_in_grace_minutes`; past it, the day-time
job (`expire_due`, scheduled beside the day end) cancels the ticket through the state machine
with the reason "check_in_expired".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from motcua.engine import changes, clock, queue_order, ticket_sql
from motcua.engine.errors import QueueError, conflict, not_found
from motcua.engine.remote import CODE_LENGTH, RemoteSettings
from motcua.engine.tickets import cancel_ticket
from motcua.engine.views import holder_ticket_view, service_view, ticket_view
from motcua.models import Office, Ticket, TicketStatus
from motcua.prepared import Prepared

EXPIRED = "check_in_expired"
_tickets = Ticket.__table__
# The status page's address as the scanner types it: .../t/<public_id>
_STATUS_URL = re.compile(r"/t/([A-Za-z0-9_-]{16,32})(?:[/?#]|$)")

# An ordinary class head was just called in this field: the unchecked numbers before it were passed.
_PASSED = Prepared(update(_tickets).where(
    _tickets.c.office_id == bindparam("office"), _tickets.c.business_day == bindparam("day"),
    _tickets.c.service_id == bindparam("service"), _tickets.c.status == TicketStatus.waiting,
    _tickets.c.awaiting_check_in, _tickets.c.check_in_due_at.is_(None), _tickets.c.priority_group_id.is_(None),
    _tickets.c.queue_key <= bindparam("key"),
).values(check_in_due_at=bindparam("due")))
_CHECKED_IN = Prepared(update(_tickets).where(
    _tickets.c.id == bindparam("ticket"), _tickets.c.status == TicketStatus.waiting, _tickets.c.awaiting_check_in,
).values(awaiting_check_in=False, checked_in_at=bindparam("at"), check_in_due_at=None))


def mark_passed(conn: Connection, office: Office, head: queue_order.Head, day: date, now: datetime) -> None:
    """Call next just claimed `head`: start the grace of the unchecked numbers it passed."""
    rs = RemoteSettings.of(office.settings)
    if not rs.check_in or head.priority or head.appointment:  # an appointment's call passes nobody's place
        return
    _PASSED.run(conn, {"office": office.id, "day": day, "service": head.service_id, "key": head.key,
                       "due": now + timedelta(minutes=rs.grace_minutes)})


def bad_check_in() -> QueueError:
    return not_found("số lấy từ xa với mã này hôm nay", "A remote number with this code today", "unknown_check_in")


def find_for_check_in(session: Session, office: Office, *, code: str | None, scan: str | None, now: datetime) -> Ticket:
    """Today's remote number of this office named by its check-in code or its status page's QR."""
    day = clock.business_day(now, office.timezone)
    query = select(Ticket).where(Ticket.office_id == office.id, Ticket.business_day == day, Ticket.source == "remote")
    if scan is not None:
        m = _STATUS_URL.search(scan.strip())
        if not m:
            raise bad_check_in()
        query = query.where(Ticket.public_id == m.group(1))
    else:
        typed = re.sub(r"[\s-]", "", code or "").upper()
        if len(typed) != CODE_LENGTH:
            raise bad_check_in()
        query = query.where(Ticket.check_in_code == typed)
    t = session.scalar(query)
    if t is None:
        raise bad_check_in()
    return t


def check_in(session: Session, office: Office, t: Ticket, now: datetime | None = None) -> dict:
    """Check the remote number in: counters may call it from now on. A ticket checked in already
    answers the same (a second scan is harmless); a closed one is refused."""
    now = now or clock.now()
    if t.status != TicketStatus.waiting:
        raise conflict("ticket_closed", f"Số {t.code} đã được gọi hoặc đã kết thúc.", f"Number {t.code} has been called or is closed.")
    if t.awaiting_check_in:
        if _CHECKED_IN.run(ticket_sql.connection(session), {"ticket": t.id, "at": now}) != 1:
            raise conflict("wrong_state", f"Phiếu {t.code} vừa đổi trạng thái, vui lòng thử lại.", f"Ticket {t.code} has just changed; try again.")
        ticket_sql.synced(session, Ticket, t.id, awaiting_check_in=False, checked_in_at=now, check_in_due_at=None)
        changes.record(session, t.office_id, "ticket.checked_in",
                       {"ticket": ticket_view(t), "service": service_view(session, office, t.service, now)})
    return holder_ticket_view(t)


def expire_due(session: Session, office: Office, now: datetime | None = None) -> int:
    """Cancel the unchecked remote numbers whose grace has run out; how many."""
    now = now or clock.now()
    due = session.scalars(select(Ticket).where(
        Ticket.office_id == office.id, Ticket.status == TicketStatus.waiting, Ticket.awaiting_check_in,
        Ticket.check_in_due_at <= now).order_by(Ticket.id)).all()
    for t in due:
        cancel_ticket(session, t, reason=EXPIRED, now=now)
    return len(due)
