"""The office now: what the dashboard shows beside the live Socket.IO state, and its alerts.

Plain functions over a session, no Flask. The page takes counters and waiting counts live from
the /display snapshot and changes; this adds the figures that need the database (today's
counts and waits, the longest current wait per field, printer and device health) and the
alerts, and is fetched again after changes (debounced) and every half minute.

Alerts:
- long_wait: someone in a field has waited longer than its threshold (the field's own in
  settings["field_wait_alert_minutes"], else the office's wait_alert_minutes);
- no_counter: people wait in a field that no open counter serves;
- printer_failed: a print job failed on the printer in the last `printer_failure_minutes`;
- printer_paper / printer_offline: the printer's last status check said so;
- device_offline: a device with a token was not seen for `device_offline_minutes` (a device
  that never connected is listed as "never seen", without an alert: it may not be set up yet).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from manager import reports
from motcua.engine import clock
from motcua.engine.views import iso
from motcua.models import Counter, CounterService, CounterStatus, Device, Office, Printer, PrintJob, Service, TicketLeg

DEFAULT_WAIT_ALERT_MINUTES = 30
DEFAULT_DEVICE_OFFLINE_MINUTES = 5
DEFAULT_PRINTER_FAILURE_MINUTES = 15
DEVICE_KINDS_VI = {"kiosk": "Kiosk", "display": "Màn hình sảnh", "counter_display": "Màn hình quầy", "rating": "Máy đánh giá"}
DEVICE_KINDS_EN = {"kiosk": "Kiosk", "display": "Hall display", "counter_display": "Counter display", "rating": "Rating pad"}


def thresholds(office: Office) -> dict[str, Any]:
    s = office.settings or {}
    return {
        "wait_alert_minutes": int(s.get("wait_alert_minutes") or DEFAULT_WAIT_ALERT_MINUTES),
        "field_wait_alert_minutes": dict(s.get("field_wait_alert_minutes") or {}),
        "device_offline_minutes": int(s.get("device_offline_minutes") or DEFAULT_DEVICE_OFFLINE_MINUTES),
        "printer_failure_minutes": int(s.get("printer_failure_minutes") or DEFAULT_PRINTER_FAILURE_MINUTES),
    }


def _alert(level: str, code: str, vi: str, en: str, **about: Any) -> dict[str, Any]:
    return {"level": level, "code": code, "message": vi, "message_en": en, **about}


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _for_how_long(delta: timedelta, since: datetime, tz: str) -> tuple[str, str]:
    """'12 phút', '2 giờ 5 phút', or 'từ 02/03/2026 08:12' for more than a day."""
    m = _minutes(delta)
    if m < 60:
        return f"{m} phút", f"{m} min"
    if m < 24 * 60:
        return f"{m // 60} giờ {m % 60} phút", f"{m // 60} h {m % 60} min"
    at = clock.local(since, tz).strftime("%d/%m/%Y %H:%M")
    return f"từ {at}", f"since {at}"


def today(session: Session, office: Office, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    day = clock.business_day(now, office.timezone)
    limits = thresholds(office)
    alerts: list[dict[str, Any]] = []

    # Today's figures, per field and in total (the reports' own definitions).
    by_field = reports.summary(session, office, day, day, "service")
    figures = {row["key"]: row for row in by_field.rows}

    # Who waits now, and since when.
    waiting = {
        sid: (n, oldest)
        for sid, n, oldest in session.execute(
            select(TicketLeg.service_id, func.count(), func.min(TicketLeg.queued_at))
            .where(TicketLeg.office_id == office.id, TicketLeg.business_day == day, TicketLeg.outcome.is_(None), TicketLeg.called_at.is_(None))
            .group_by(TicketLeg.service_id)
        )
    }
    open_counters: dict[int, list[int]] = {}
    for sid, number in session.execute(
        select(CounterService.service_id, Counter.number)
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(Counter.office_id == office.id, Counter.active, Counter.status == CounterStatus.open)
        .order_by(Counter.number)
    ):
        open_counters.setdefault(sid, []).append(number)

    services = []
    for s in session.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)):
        n, oldest = waiting.get(s.id, (0, None))
        longest = (now - oldest) if oldest else None
        limit = int(limits["field_wait_alert_minutes"].get(s.code) or limits["wait_alert_minutes"])
        f = figures.get(s.code, {})
        services.append(
            {
                "code": s.code, "name": s.name, "active": s.active, "waiting": n,
                "oldest_queued_at": iso(oldest), "longest_wait_s": round(longest.total_seconds()) if longest else None,
                "wait_alert_minutes": limit, "open_counters": open_counters.get(s.id, []),
                "issued": f.get("issued", 0), "served": f.get("served", 0), "no_show": f.get("no_show", 0),
                "wait_mean_s": f.get("wait_mean_s"),
            }
        )
        if longest is not None and longest > timedelta(minutes=limit):
            vi, en = _for_how_long(longest, oldest, office.timezone)
            alerts.append(_alert("bad", "long_wait", f"{s.name}: có người đã chờ {vi} (ngưỡng {limit} phút).",
                                 f"{s.name_en or s.name}: someone has waited {en} (threshold {limit} min).", service=s.code,
                                 minutes=_minutes(longest)))
        if n and not open_counters.get(s.id):
            alerts.append(_alert("bad", "no_counter", f"{s.name}: {n} người đang chờ nhưng không có quầy nào mở.",
                                 f"{s.name_en or s.name}: {n} waiting but no counter is open.", service=s.code, waiting=n))

    # Printers.
    since = now - timedelta(minutes=limits["printer_failure_minutes"])
    failed = {
        pid: (n, last)
        for pid, n, last in session.execute(
            select(PrintJob.printer_id, func.count(), func.max(PrintJob.updated_at))
            .join(Printer, Printer.id == PrintJob.printer_id)
            .where(Printer.office_id == office.id, PrintJob.status == "failed", PrintJob.updated_at >= since)
            .group_by(PrintJob.printer_id)
        )
    }
    printers = []
    for p in session.scalars(select(Printer).where(Printer.office_id == office.id).order_by(Printer.name)):
        st = p.last_status or {}
        n_failed, last_failed = failed.get(p.id, (0, None))
        last_error = None
        if n_failed:
            last_error = session.scalar(
                select(PrintJob.error).where(PrintJob.printer_id == p.id, PrintJob.status == "failed").order_by(PrintJob.updated_at.desc()).limit(1)
            )
        health = "ok"
        if p.active:
            if st.get("paper") == "out":
                health = "bad"
                alerts.append(_alert("bad", "printer_paper", f"Máy in {p.name} hết giấy.", f"Printer {p.name} is out of paper.", printer=p.name))
            elif st.get("online") is False:
                health = "bad"
                alerts.append(_alert("bad", "printer_offline", f"Máy in {p.name} không sẵn sàng (lần kiểm tra cuối).",
                                     f"Printer {p.name} was not ready at the last check.", printer=p.name))
            elif st.get("paper") == "near_end":
                health = "warn"
                alerts.append(_alert("warn", "printer_paper_low", f"Máy in {p.name} sắp hết giấy.", f"Printer {p.name} is running out of paper.",
                                     printer=p.name))
            if n_failed:
                health = "bad"
                alerts.append(_alert("bad", "printer_failed", f"Máy in {p.name}: {n_failed} phiếu in lỗi trong {limits['printer_failure_minutes']} phút qua.",
                                     f"Printer {p.name}: {n_failed} failed print jobs in the last {limits['printer_failure_minutes']} min.",
                                     printer=p.name, failed=n_failed, error=last_error))
        else:
            health = "off"
        printers.append(
            {
                "name": p.name, "connection": p.connection, "active": p.active, "health": health,
                "online": st.get("online"), "paper": st.get("paper"), "error": st.get("error"),
                "last_seen_at": iso(p.last_seen_at), "failed_recently": n_failed, "last_failed_at": iso(last_failed), "last_error": last_error,
            }
        )

    # Devices.
    offline_after = timedelta(minutes=limits["device_offline_minutes"])
    devices = []
    counters = {c.id: c.number for c in session.scalars(select(Counter).where(Counter.office_id == office.id))}
    for d in session.scalars(select(Device).where(Device.office_id == office.id).order_by(Device.kind, Device.name)):
        usable = d.token_hash is not None and d.revoked_at is None
        if not usable:
            health = "off"
        elif d.last_seen_at is None:
            health = "never"
        elif now - d.last_seen_at > offline_after:
            health = "bad"
            vi, en = _for_how_long(now - d.last_seen_at, d.last_seen_at, office.timezone)
            alerts.append(_alert("warn" if d.kind.value == "rating" else "bad", "device_offline",
                                 f"{DEVICE_KINDS_VI[d.kind.value]} “{d.name}”: không thấy tín hiệu {vi}.",
                                 f"{DEVICE_KINDS_EN[d.kind.value]} “{d.name}”: not seen {en}.", device=d.name,
                                 minutes=_minutes(now - d.last_seen_at)))
        else:
            health = "ok"
        devices.append(
            {"name": d.name, "kind": d.kind.value, "counter": counters.get(d.counter_id), "health": health,
             "last_seen_at": iso(d.last_seen_at), "revoked": d.revoked_at is not None}
        )

    total = by_field.total
    alerts.sort(key=lambda a: (a["level"] != "bad", a["code"]))
    return {
        "at": iso(now),
        "business_day": day.isoformat(),
        "office": {"code": office.code, "name": office.name, "timezone": office.timezone},
        "thresholds": limits,
        "today": {
            "issued": total["issued"], "served": total["served"], "no_show": total["no_show"], "cancelled": total["cancelled"],
            "transferred": total["transferred"], "waiting": sum(n for n, _ in waiting.values()),
            "wait_mean_s": total["wait_mean_s"], "wait_median_s": total["wait_median_s"], "wait_p90_s": total["wait_p90_s"],
            "service_mean_s": total["service_mean_s"], "satisfaction_rate": total["satisfaction_rate"], "ratings": total["ratings"],
        },
        "services": services,
        "printers": printers,
        "devices": devices,
        "alerts": alerts,
    }
