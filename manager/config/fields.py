"""Fields (lĩnh vực): the list, and the editor with the field's own ticket windows and its
appointment booking (kept in the office's settings as `booking_fields`, as config.toml's
`fields[].booking` is seeded; validated with config.toml's own BookingConfig)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, parse_week_or_list, refresh_estimates_on_commit, spans_text, spans_text_of
from manager.config.editor import Editor, Saved
from motcua.auth import login_required_page
from motcua.config import WEEKDAYS, BookingConfig
from motcua.models import Office, Service
from motcua.state import state

BOOKING_KEYS = ("slot_minutes", "per_slot", "share", "days_ahead", "close_minutes_before")
FIELD_KEYS = ("code", "name", "name_en", "prefix", "start_number", "digits", "daily_quota", "service_minutes", "issuing_windows", "active", "sort_order")


@bp.get("/fields")
@login_required_page(*ROLES)
def fields():
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)).all()
        return render_template("manager/config/fields.html", rows=rows, **ctx(s, office))


def booking_of(office: Office, code: str) -> dict[str, Any] | None:
    return ((office.settings or {}).get("booking_fields") or {}).get(code)


def check_booking(form: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The field's booking table from the form (None: not bookable), checked with config.toml's rules."""
    if not form.booking_enabled.data:
        return None
    spans = parse_week_or_list(form.booking_spans.data, "booking_spans")
    if not spans:
        raise cs.invalid("booking_spans", "Hãy nhập giờ nhận lịch hẹn, ví dụ 08:00-11:00.", "Enter the bookable hours, e.g. 08:00-11:00.")
    data = {**(current or {}), "spans": spans, **{k: getattr(form, f"booking_{k}").data for k in BOOKING_KEYS}}
    data = {k: v for k, v in data.items() if v is not None or k == "per_slot"}
    try:
        checked = cs.check(BookingConfig, data)
    except cs.Invalid as exc:
        raise cs.Invalid({(f"booking_{k}" if f"booking_{k}" in form else "booking_spans"): v for k, v in exc.errors.items()}) from None
    return checked.model_dump()


def _windows_form(svc: Service | None) -> Any:
    form = F.FieldWindowsForm(prefix="")
    if request.method == "GET" and svc is not None and svc.issuing_windows:
        for d in WEEKDAYS:
            getattr(form, f"win_{d}").data = spans_text(svc.issuing_windows.get(d))
    return form


class FieldEditor(Editor):
    model, form_class, entity, list_endpoint = Service, F.FieldForm, "service", ".fields"
    locked_on_edit = frozenset({"code"})

    def make_form(self, s: Session, office: Office, svc: Service | None) -> Any:
        form = super().make_form(s, office, svc)
        if svc and request.method == "GET":
            form.start.data = svc.start_number
            form.own_windows.data = svc.issuing_windows is not None
            booking = booking_of(office, svc.code)
            form.booking_enabled.data = booking is not None
            if booking:
                form.booking_spans.data = spans_text_of(booking["spans"])
                for k in BOOKING_KEYS:
                    getattr(form, f"booking_{k}").data = booking.get(k)
        return form

    def title(self, svc: Service | None) -> str:
        return _("Sửa lĩnh vực %(name)s", name=svc.name) if svc else _("Thêm lĩnh vực")

    def context(self, s: Session, office: Office, svc: Service | None, form: Any) -> dict[str, Any]:
        return {**super().context(s, office, svc, form), "windows": _windows_form(svc)}

    def write(self, s: Session, office: Office, form: Any, svc: Service | None) -> Saved:
        code = svc.code if svc else form.code.data.strip()
        windows_value = cs.parse_week(request.form, "win_") if form.own_windows.data else None
        fc = cs.check_field({
            "code": code, "name": form.name.data.strip(), "name_en": (form.name_en.data or "").strip(),
            "prefix": (form.prefix.data or "").strip().upper(), "start": form.start.data, "digits": form.digits.data,
            "daily_quota": form.daily_quota.data, "service_minutes": form.service_minutes.data, "issuing_windows": windows_value,
        })
        if svc is None and s.scalar(select(Service.id).where(Service.office_id == office.id, Service.code == fc.code)):
            raise cs.invalid("code", f"Đã có lĩnh vực mã {fc.code}", f"field {fc.code} exists")
        cs.check_unique_series(s, office, fc.prefix, fc.start, svc.id if svc else None)
        booking = check_booking(form, booking_of(office, code))
        if svc is None:
            svc = Service(office_id=office.id, code=fc.code)
            s.add(svc)
        svc.name, svc.name_en, svc.prefix, svc.start_number, svc.digits = fc.name, fc.name_en, fc.prefix, fc.start, fc.digits
        svc.daily_quota, svc.service_minutes = fc.daily_quota, fc.service_minutes
        svc.issuing_windows = {d: list(v) for d, v in fc.issuing_windows.items()} if fc.issuing_windows is not None else None
        svc.active, svc.sort_order = bool(form.active.data), form.sort_order.data or 0
        if booking != booking_of(office, code):
            tables = {k: v for k, v in ((office.settings or {}).get("booking_fields") or {}).items() if k != code}
            office.settings = {**(office.settings or {}), "booking_fields": {**tables, **({code: booking} if booking else {})}}
        refresh_estimates_on_commit(s, office.id)  # the typical minutes are part of what it keeps
        return Saved(svc)

    def snapshot(self, svc: Service) -> dict[str, Any]:
        office = object_session(svc).get(Office, svc.office_id)
        return {**cs.snapshot_of(svc, FIELD_KEYS), "booking": booking_of(office, svc.code)}

    def audit_id(self, svc: Service) -> str:
        return svc.code

    def payload(self, s: Session, office: Office, svc: Service) -> dict[str, Any]:
        return cs.service_payload(s, office, svc)

    def message(self, form: Any, svc: Service) -> str:
        return _("Đã lưu lĩnh vực %(name)s.", name=form.name.data)


FieldEditor().register(bp, "/fields", "field", "sid")
