"""Calls out of turn: each with its reason, who called, and how many people who waited longer
in the same field were passed over (the audit a citizen's complaint needs)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from manager.reports.base import E, L, Names, T, check_range, dialect_of, in_range, wait_ms
from motcua import stats
from motcua.engine import clock
from motcua.models import Office


def out_of_order_calls(session: Session, office: Office, start: date, end: date, limit: int | None = None) -> list[dict[str, Any]]:
    """Every call out of turn with its reason, who called, and how many people waiting longer in
    the same field were passed over (the audit a citizen's complaint needs)."""
    check_range(start, end)
    dialect = dialect_of(session)
    other = L.alias("other")
    passed = (
        select(func.count())
        .select_from(other)
        .where(
            other.c.office_id == L.c.office_id,
            other.c.business_day == L.c.business_day,
            other.c.service_id == L.c.service_id,
            other.c.ticket_id != L.c.ticket_id,
            other.c.queued_at < L.c.queued_at,
            or_(other.c.called_at.is_(None), other.c.called_at > E.c.at),
            or_(other.c.finished_at.is_(None), other.c.finished_at > E.c.at),
        )
        .scalar_subquery()
    )
    q = (
        select(E.c.at, E.c.reason, E.c.counter_id, E.c.user_id, T.c.code, L.c.service_id, L.c.business_day, wait_ms(dialect), passed)
        .select_from(L.join(T, T.c.id == L.c.ticket_id).join(E, and_(E.c.ticket_id == L.c.ticket_id, E.c.kind == "called", E.c.at == L.c.called_at)))
        .where(in_range(office, start, end), L.c.out_of_order.is_(True))
        .order_by(E.c.at, E.c.id)
    )
    if limit:
        q = q.limit(limit)
    names = Names.load(session, office)
    out = []
    for at, reason, counter_id, user_id, code, service_id, day, wait, n_passed in session.execute(q):
        c = names.counters.get(counter_id)
        s = names.services.get(service_id)
        out.append(
            {
                "at": clock.local(at, office.timezone),
                "business_day": day,
                "ticket_code": code,
                "service": s.code if s else None,
                "service_name": s.name if s else None,
                "counter": c.number if c else None,
                "clerk": names.user_name(user_id),
                "reason": reason,
                "wait_s": stats.ms_to_s(wait),
                "passed_over": int(n_passed or 0),
            }
        )
    return out


# (key, Vietnamese header) of the out-of-order list.
OUT_OF_ORDER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "Gọi lúc"),
    ("business_day", "Ngày"),
    ("ticket_code", "Số phiếu"),
    ("service", "Mã lĩnh vực"),
    ("service_name", "Lĩnh vực"),
    ("counter", "Quầy"),
    ("clerk", "Cán bộ"),
    ("reason", "Lý do"),
    ("wait_s", "Đã chờ (giây)"),
    ("passed_over", "Số người chờ lâu hơn bị vượt"),
)
