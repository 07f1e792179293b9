"""The per-ticket log: one row per queue leg with every time, counter, clerk, outcome, wait,
service time, estimate and rating (the API's JSON pages and the CSV/XLSX downloads)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from manager.dossier_reports import codes_by_ticket
from manager.reports.base import OUTCOMES_VI, E, L, Names, R, T, check_range, dialect_of, in_range, rating_scale, service_ms, wait_ms
from motcua import stats
from motcua.engine import clock
from motcua.models import Office

# (key, Vietnamese header); one row per leg. Times are the office's local time.
TICKET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("business_day", "Ngày"),
    ("ticket_code", "Số phiếu"),
    ("ticket_number", "Số thứ tự"),
    ("leg", "Lượt"),
    ("service", "Mã lĩnh vực"),
    ("service_name", "Lĩnh vực"),
    ("priority", "Nhóm ưu tiên"),
    ("issued_at", "Lấy số lúc"),
    ("queued_at", "Vào hàng đợi lúc"),
    ("called_at", "Gọi lúc"),
    ("started_at", "Bắt đầu lúc"),
    ("finished_at", "Kết thúc lúc"),
    ("counter", "Quầy"),
    ("clerk", "Cán bộ"),
    ("outcome", "Kết quả"),
    ("outcome_label", "Kết quả (diễn giải)"),
    ("recalls", "Số lần gọi lại"),
    ("out_of_order", "Gọi không theo thứ tự"),
    ("call_reason", "Lý do gọi không theo thứ tự"),
    ("wait_s", "Thời gian chờ (giây)"),
    ("service_s", "Thời gian phục vụ (giây)"),
    ("eta_low_min", "Dự kiến chờ từ (phút)"),
    ("eta_high_min", "Dự kiến chờ đến (phút)"),
    ("rating_score", "Điểm đánh giá (1 = tốt nhất)"),
    ("rating_label", "Mức đánh giá"),
    ("rating_reason", "Lý do đánh giá"),
    ("dossiers", "Mã hồ sơ"),
)
TIME_KEYS = ("issued_at", "queued_at", "called_at", "started_at", "finished_at")


def _call_reasons(session: Session, office: Office, start: date, end: date) -> dict[int, str | None]:
    q = (
        select(L.c.id, E.c.reason)
        .select_from(L.join(E, and_(E.c.ticket_id == L.c.ticket_id, E.c.kind == "called", E.c.at == L.c.called_at)))
        .where(in_range(office, start, end), L.c.out_of_order.is_(True))
    )
    return dict(session.execute(q).all())


def ticket_log(session: Session, office: Office, start: date, end: date, *, limit: int | None = None, offset: int = 0) -> Iterator[dict[str, Any]]:
    """The per-leg log, in order of business day, ticket and leg; times as aware local datetimes."""
    check_range(start, end)
    dialect = dialect_of(session)
    names = Names.load(session, office)
    scale = rating_scale(office)
    reasons = _call_reasons(session, office, start, end)
    dossiers = codes_by_ticket(session, office, start, end)
    q = (
        select(
            L.c.id, L.c.business_day, T.c.code, T.c.number, L.c.seq, L.c.service_id, T.c.priority_group_id,
            T.c.issued_at, L.c.queued_at, L.c.called_at, L.c.started_at, L.c.finished_at, L.c.counter_id, L.c.clerk_id,
            L.c.outcome, L.c.recalls, L.c.out_of_order, wait_ms(dialect), service_ms(dialect), T.c.eta_low, T.c.eta_high,
            R.c.score, R.c.scale, R.c.reason, L.c.ticket_id,
        )
        .select_from(L.join(T, T.c.id == L.c.ticket_id).outerjoin(R, R.c.leg_id == L.c.id))
        .where(in_range(office, start, end))
        .order_by(L.c.business_day, L.c.ticket_id, L.c.seq)
        .execution_options(stream_results=True, yield_per=2000)
    )
    if limit is not None:
        q = q.limit(limit).offset(offset)
    tz = office.timezone
    for (
        leg_id, day, code, number, seq, service_id, group_id, issued, queued, called, started, finished, counter_id, clerk_id,
        outcome, recalls, ooo, wait, svc, eta_low, eta_high, score, scale_n, rating_reason, ticket_id,
    ) in session.execute(q):
        s = names.services.get(service_id)
        c = names.counters.get(counter_id) if counter_id else None
        g = names.groups.get(group_id) if group_id else None
        first = seq == 1
        yield {
            "business_day": day,
            "ticket_code": code,
            "ticket_number": number,
            "leg": seq,
            "service": s.code if s else None,
            "service_name": s.name if s else None,
            "priority": g.name if g else None,
            "issued_at": clock.local(issued, tz),
            "queued_at": clock.local(queued, tz),
            "called_at": clock.local(called, tz) if called else None,
            "started_at": clock.local(started, tz) if started else None,
            "finished_at": clock.local(finished, tz) if finished else None,
            "counter": c.number if c else None,
            "clerk": names.user_name(clerk_id),
            "outcome": outcome,
            "outcome_label": OUTCOMES_VI.get(outcome, outcome),
            "recalls": recalls,
            "out_of_order": bool(ooo),
            "call_reason": reasons.get(leg_id) if ooo else None,
            "wait_s": stats.ms_to_s(wait),
            "service_s": stats.ms_to_s(svc),
            "eta_low_min": eta_low if first else None,
            "eta_high_min": eta_high if first else None,
            "rating_score": score,
            "rating_label": (scale[score - 1] if score is not None and scale_n == len(scale) and score <= len(scale) else None),
            "rating_reason": rating_reason,
            "dossiers": dossiers.get(ticket_id),
        }


def ticket_log_json(row: dict[str, Any]) -> dict[str, Any]:
    """A log row for JSON: ISO 8601 dates and times with the office's UTC offset."""
    out = dict(row)
    out["business_day"] = row["business_day"].isoformat()
    for k in TIME_KEYS:
        out[k] = row[k].isoformat(timespec="seconds") if row[k] else None
    return out


def count_legs(session: Session, office: Office, start: date, end: date) -> int:
    return session.scalar(select(func.count()).select_from(L).where(in_range(office, start, end))) or 0
