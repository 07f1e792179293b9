"""Notification delivery for managers: the delivery log (one row per message, the phone masked)
and the delivery summary of a period (sent, failed, dropped, waiting by event and channel)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.models import Office, Ticket
from motcua.notify import outbox
from motcua.notify.outbox import Notification

PER_PAGE = 50
EVENTS_VI = {"near": "Sắp đến lượt", "called": "Được gọi", "booked": "Xác nhận đặt lịch", "reminder": "Nhắc lịch hẹn"}
STATUSES_VI = {outbox.PENDING: "Đang chờ gửi", outbox.SENDING: "Đang gửi", outbox.SENT: "Đã gửi",
               outbox.FAILED: "Gửi không được", outbox.DROPPED: "Bỏ qua"}
SUMMARY_COLUMNS = [("event", "Sự kiện"), ("channel", "Kênh"), ("sent", "Đã gửi"), ("failed", "Gửi không được"),
                   ("dropped", "Bỏ qua"), ("waiting", "Đang chờ gửi"), ("attempts", "Số lần gửi")]


def utc_span(office: Office, start: date, end: date) -> tuple[datetime, datetime]:
    """The office's local days start..end as UTC moments [from, to)."""
    zone = clock.zone(office.timezone)
    return (datetime.combine(start, time(), zone).astimezone(clock.zone("UTC")),
            datetime.combine(end + timedelta(days=1), time(), zone).astimezone(clock.zone("UTC")))


@dataclass(frozen=True)
class LogPage:
    rows: list[dict]
    page: int
    pages: int
    total: int


def delivery_log(session: Session, office: Office, day: date, status: str | None, page: int) -> LogPage:
    lo, hi = utc_span(office, day, day)
    where = [Notification.office_id == office.id, Notification.created_at >= lo, Notification.created_at < hi]
    if status in outbox.STATUSES:
        where.append(Notification.status == status)
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    q = (select(Notification, Ticket.code).outerjoin(Ticket, Ticket.id == Notification.ticket_id).where(*where)
         .order_by(Notification.created_at.desc(), Notification.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    rows = []
    for n, code in session.execute(q):
        rows.append({
            "id": n.id, "created_at": clock.local(n.created_at, office.timezone), "event": n.event, "key": n.key,
            "ticket": code or (n.body.get("ticket") or {}).get("code") or "", "channel": n.channel, "phone": n.phone_mask or "",
            "status": n.status, "attempts": n.attempts, "last_error": n.last_error or "",
            "sent_at": clock.local(n.sent_at, office.timezone) if n.sent_at else None,
        })
    return LogPage(rows, page, pages, total)


def delivery_summary(session: Session, office: Office, start: date, end: date) -> list[dict]:
    """Per event and channel: how many messages were sent, failed, dropped, still waiting."""
    lo, hi = utc_span(office, start, end)
    q = (select(Notification.event, Notification.channel, Notification.status, func.count(), func.sum(Notification.attempts))
         .where(Notification.office_id == office.id, Notification.created_at >= lo, Notification.created_at < hi)
         .group_by(Notification.event, Notification.channel, Notification.status))
    table: dict[tuple[str, str], dict] = {}
    for event, channel, status, n, attempts in session.execute(q):
        row = table.setdefault((event, channel), {"event": event, "channel": channel, "sent": 0, "failed": 0, "dropped": 0,
                                                  "waiting": 0, "attempts": 0})
        row[status if status in (outbox.SENT, outbox.FAILED, outbox.DROPPED) else "waiting"] += n
        row["attempts"] += int(attempts or 0)
    order = list(EVENTS_VI)
    return sorted(table.values(), key=lambda r: (order.index(r["event"]) if r["event"] in order else len(order), r["event"], r["channel"]))
