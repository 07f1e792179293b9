"""Seed the database from config.toml: create what is missing, never overwrite what managers
changed at run time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.config import Config, OfficeConfig, week_table
from motcua.engine import clock
from motcua.models import Counter, CounterService, Device, DeviceKind, Office, Printer, PriorityGroup, Service

SETTING_KEYS = (
    "working_hours", "issuing_windows", "priority_ratio", "transfer_position", "announcement_template",
    "announcement_repeat", "kiosk_reset_seconds", "print_max_age_seconds", "rating_seconds", "wait_alert_minutes",
    "wait_target_minutes",
    "rating_scale", "rating_scale_en", "rating_low_count", "no_show_min_seconds",
    "elderly_age", "one_ticket_per_citizen", "dossier_pattern", "results_service", "personal_data_days",
    "remote_enabled", "remote_share", "remote_phone_required", "remote_per_phone_per_day", "remote_check_in",
    "check_in_grace_minutes", "board_frame_ancestors", "appointment_early_minutes", "appointment_late_minutes", "booking_per_phone",
    "notify_ahead", "reminder_minutes",
)


def office_settings(oc: OfficeConfig) -> dict:
    settings = {k: getattr(oc, k) for k in SETTING_KEYS}
    settings["holidays"] = [d.isoformat() for d in oc.holidays]
    # Per-field exceptions to the office's one-ticket-per-citizen rule.
    settings["one_ticket_per_citizen_fields"] = {f.code: f.one_ticket_per_citizen for f in oc.fields if f.one_ticket_per_citizen is not None}
    settings["remote_share_fields"] = {f.code: f.remote_share for f in oc.fields if f.remote_share is not None}
    settings["booking_fields"] = {f.code: f.booking.model_dump() for f in oc.fields if f.booking is not None}
    return settings


def seed(session: Session, config: Config) -> list[Office]:
    return [_seed_office(session, oc) for oc in config.offices]


def _get(session: Session, model, **by):
    return session.scalar(select(model).filter_by(**by))


def _seed_office(session: Session, oc: OfficeConfig) -> Office:
    office = _get(session, Office, code=oc.code)
    if office is None:
        office = Office(code=oc.code, name=oc.name, address=oc.address, timezone=oc.timezone, settings=office_settings(oc), event_seq=0)
        session.add(office)
        session.flush()
    services: dict[str, Service] = {}
    for i, fc in enumerate(oc.fields):
        s = _get(session, Service, office_id=office.id, code=fc.code)
        if s is None:
            s = Service(
                office_id=office.id, code=fc.code, name=fc.name, name_en=fc.name_en, prefix=fc.prefix,
                start_number=fc.start, digits=fc.digits, daily_quota=fc.daily_quota,
                service_minutes=fc.service_minutes, issuing_windows=fc.issuing_windows, sort_order=i,
            )
            session.add(s)
            session.flush()
        services[fc.code] = s
    for cc in oc.counters:
        if _get(session, Counter, office_id=office.id, number=cc.number) is None:
            hours = week_table(cc.hours, oc.working_hours) if cc.hours is not None else None
            c = Counter(office_id=office.id, number=cc.number, name=cc.name, hours=hours)
            c.services = [CounterService(service_id=services[code].id, weight=w) for code, w in cc.fields.items()]
            session.add(c)
    for i, gc in enumerate(oc.priority_groups):
        if _get(session, PriorityGroup, office_id=office.id, code=gc.code) is None:
            session.add(PriorityGroup(office_id=office.id, code=gc.code, name=gc.name, name_en=gc.name_en, sort_order=i))
    printers: dict[str, Printer] = {}
    for pc in oc.printers:
        p = _get(session, Printer, office_id=office.id, name=pc.name)
        if p is None:
            p = Printer(office_id=office.id, **pc.model_dump())
            session.add(p)
            session.flush()
        printers[pc.name] = p
    session.flush()
    for dc in oc.devices:
        if _get(session, Device, office_id=office.id, name=dc.name) is None:
            counter = _get(session, Counter, office_id=office.id, number=dc.counter) if dc.counter else None
            session.add(
                Device(
                    office_id=office.id, name=dc.name, kind=DeviceKind(dc.kind), created_at=clock.now(),
                    counter_id=counter.id if counter else None,
                    printer_id=printers[dc.printer].id if dc.printer else None,
                    backup_printer_id=printers[dc.backup_printer].id if dc.backup_printer else None,
                )
            )
    session.flush()
    return office
