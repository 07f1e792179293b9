"""Dossier codes (mã hồ sơ): attached to the citizen at a counter, carried from a receipt's QR to
the results desk, and marked when the result is handed back.

A code is what the office's `dossier_pattern` (a regular expression) finds in what was typed or
scanned: a receipt's QR carries the code among other data, so the pattern is searched for, and
the match is kept upper-cased. A named group `area` in the pattern is the procedure area that
reports group by.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.config import DEFAULT_DOSSIER_PATTERN
from motcua.engine import clock, tickets
from motcua.engine.errors import QueueError, conflict
from motcua.engine.tickets import Issued
from motcua.engine.views import iso
from motcua.models import Counter, Dossier, Office, Service, Ticket, TicketLeg, TicketStatus, User

MAX_INPUT = 2000  # a receipt's QR text; more is not a receipt


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def pattern_of(office: Office) -> re.Pattern:
    return _compiled((office.settings or {}).get("dossier_pattern") or DEFAULT_DOSSIER_PATTERN)


def bad_code() -> QueueError:
    return QueueError("bad_dossier_code", "Không đọc được mã hồ sơ. Hãy quét lại phiếu hẹn hoặc nhập mã.",
                      "No dossier code found: scan the receipt again or type the code.", status=422)


def read_code(office: Office, text: str) -> tuple[str, str | None]:
    """(code, area) from typed or scanned text; the code upper-cased and trimmed."""
    text = (text or "").strip().upper()
    if not text or len(text) > MAX_INPUT:
        raise bad_code()
    m = pattern_of(office).search(text)
    if m is None or not m.group(0).strip():
        raise bad_code()
    area = m.groupdict().get("area")
    return m.group(0).strip()[:64], (area.strip()[:64] or None) if area else None


def for_tickets(session: Session, ticket_ids: list[int]) -> dict[int, list[Dossier]]:
    out: dict[int, list[Dossier]] = {i: [] for i in ticket_ids}
    if ticket_ids:
        for d in session.scalars(select(Dossier).where(Dossier.ticket_id.in_(ticket_ids)).order_by(Dossier.id)):
            out[d.ticket_id].append(d)
    return out


def dossier_view(d: Dossier) -> dict:
    return {"code": d.code, "area": d.area, "source": d.source, "attached_at": iso(d.attached_at), "returned_at": iso(d.returned_at)}


def returned(session: Session, office_id: int, code: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.office_id == office_id, Dossier.code == code,
                                                Dossier.returned_at.is_not(None)).limit(1))


def _current(c: Counter) -> Ticket:
    t = c.current_ticket
    if t is None or t.status not in (TicketStatus.called, TicketStatus.serving):
        raise conflict("no_current_ticket", f"Quầy {c.number} chưa phục vụ công dân nào.", f"Counter {c.number} is serving nobody.")
    return t


def attach(session: Session, c: Counter, user: User | None, text: str, *, source: str = "counter",
           now: datetime | None = None) -> Dossier:
    """Attach a code to the citizen the counter serves; attaching it again changes nothing."""
    now = now or clock.now()
    office = session.get(Office, c.office_id)
    code, area = read_code(office, text)
    t = _current(c)
    found = session.scalar(select(Dossier).where(Dossier.ticket_id == t.id, Dossier.code == code))
    if found is not None:
        return found
    d = Dossier(office_id=t.office_id, ticket_id=t.id, leg_id=t.leg.id, code=code, area=area, source=source,
                attached_at=now, attached_by_id=user.id if user else None, counter_id=c.id)
    session.add(d)
    session.flush()
    return d


def remove(session: Session, c: Counter, code: str) -> None:
    """Take back a code attached by mistake to the citizen the counter serves."""
    code = code.strip().upper()
    t = _current(c)
    d = session.scalar(select(Dossier).where(Dossier.ticket_id == t.id, Dossier.code == code))
    if d is None:
        raise QueueError("unknown_dossier", f"Số {t.code} không gắn mã hồ sơ {code}.", f"Ticket {t.code} has no dossier {code}.", status=404)
    if d.returned_at is not None:
        raise conflict("dossier_returned", "Hồ sơ đã trả kết quả, không thể gỡ.", "The dossier's result was returned: it cannot be removed.")
    session.delete(d)
    session.flush()


def mark_returned(session: Session, c: Counter, user: User | None, text: str, now: datetime | None = None) -> Dossier:
    """The result of this dossier was handed to the citizen the counter serves."""
    now = now or clock.now()
    office = session.get(Office, c.office_id)
    code, _ = read_code(office, text)
    done = returned(session, office.id, code)
    if done is not None:
        raise already_returned(code, done, office)
    d = attach(session, c, user, code, now=now)
    d.returned_at = now
    d.returned_by_id = user.id if user else None
    session.flush()
    return d


def already_returned(code: str, d: Dossier, office: Office) -> QueueError:
    when = clock.local(d.returned_at, office.timezone).strftime("%d/%m/%Y")
    return conflict("dossier_returned", f"Hồ sơ {code} đã được trả kết quả ngày {when}. Mời liên hệ quầy hướng dẫn nếu cần hỗ trợ.",
                    f"The result of dossier {code} was already returned on {when}. Please ask at the help desk if you need assistance.",
                    code_returned=code)


def issue_from_receipt(session: Session, office_id: int, receipt: str, *, priority: str | None = None,
                       now: datetime | None = None, **issue: object) -> tuple[Issued, Dossier, bool]:
    """A ticket for the results desk carrying the receipt's dossier code, so the clerk can fetch
    the result before the citizen arrives. A code already waiting today answers with that ticket;
    a result already returned is refused. Returns (issued, dossier, existing)."""
    now = now or clock.now()
    office = session.get(Office, office_id)
    desk = (office.settings or {}).get("results_service")
    if not desk:
        raise QueueError("no_results_desk", "Đơn vị chưa có quầy trả kết quả: mời chọn lĩnh vực.",
                         "This office has no results desk: please choose a field.", status=422)
    code, area = read_code(office, receipt)
    done = returned(session, office_id, code)
    if done is not None:
        raise already_returned(code, done, office)
    day = clock.business_day(now, office.timezone)
    held = session.scalar(
        select(Dossier).join(Ticket, Ticket.id == Dossier.ticket_id)
        .where(Dossier.office_id == office_id, Dossier.code == code, Ticket.business_day == day, Ticket.status == TicketStatus.waiting)
        .limit(1))
    if held is not None:
        return tickets.replayed(session, held.ticket_id), held, True
    issued = tickets.issue_ticket(session, office_id, desk, priority=priority, now=now, **issue)
    if not issued.created:  # an idempotent replay: its dossier is already there
        return issued, session.scalar(select(Dossier).where(Dossier.ticket_id == issued.id)), False
    leg_id = session.scalar(select(TicketLeg.id).where(TicketLeg.ticket_id == issued.id, TicketLeg.seq == 1))
    d = Dossier(office_id=office_id, ticket_id=issued.id, leg_id=leg_id, code=code, area=area, source="receipt", attached_at=now)
    session.add(d)
    session.flush()
    return issued, d, False


def results_desk(session: Session, office: Office) -> Service | None:
    code = (office.settings or {}).get("results_service")
    return session.scalar(select(Service).where(Service.office_id == office.id, Service.code == code)) if code else None
