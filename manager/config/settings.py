"""The office's own settings, one page each: schedule, alert thresholds, announcements,
ratings, kiosk. Each page shows its form, and a valid POST merges into `Office.settings`,
audited as entity "settings"."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, done, int_or_none, office_args, render_form, show_errors, spans_text
from manager.dashboard import thresholds
from motcua.auth import login_required_page
from motcua.config import WEEKDAYS
from motcua.models import Office, Service
from motcua.state import state


def save_settings(updates: dict[str, Any]) -> None:
    with state().db.write() as s:
        office = page_office(s)
        clean = cs.check_settings(office, updates)
        current = dict(office.settings or {})
        before = {k: current.get(k) for k in clean}
        office.settings = {**current, **clean}  # a new dict: the JSON column sees the change
        s.flush()
        cs.apply(s, office, current_user.id, "settings", office.code, "update", before, clean)


def settings_page(form: Any, title: str, updates: Any, intro: str | None = None, template: str | None = None, **extra: Any):
    """GET shows the form; POST validates, saves and redirects back."""
    db = state().db
    with db.read() as s:
        office = page_office(s)
        back = url_for(".index", **office_args(office))
        if form.validate_on_submit():
            try:
                save_settings(updates(office))
                return done(_("Đã lưu. Thay đổi có hiệu lực ngay."), request.endpoint, office)
            except cs.Invalid as exc:
                show_errors(form, exc)
        status = 422 if request.method == "POST" else 200
        values = {k: (v(s, office) if callable(v) else v) for k, v in extra.items()}
        if template:
            values["template"] = template
        return render_form(s, office, title, form, back, status, intro=intro, **values)


def _vn(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


@bp.route("/schedule", methods=["GET", "POST"])
@login_required_page(*ROLES)
def schedule():
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    data = {"holidays": "\n".join(_vn(d) for d in settings.get("holidays", []))}
    for d in WEEKDAYS:
        data[f"work_{d}"] = spans_text((settings.get("working_hours") or {}).get(d))
        data[f"issue_{d}"] = spans_text((settings.get("issuing_windows") or {}).get(d))
    form = F.ScheduleForm(data=data if request.method == "GET" else None)

    def updates(office: Office) -> dict[str, Any]:
        work = cs.parse_week(request.form, "work_")
        issue = cs.parse_week(request.form, "issue_")
        # A week left all blank means "no windows": tickets all day (as when config.toml has none).
        return {
            "working_hours": work if any(work.values()) else {},
            "issuing_windows": issue if any(issue.values()) else {},
            "holidays": cs.parse_holidays(request.form.get("holidays", "")),
        }

    return settings_page(form, _("Giờ làm việc, giờ lấy số và ngày nghỉ"), updates,
                          _("Giờ lấy số để trống cả tuần: kiosk cấp số cả ngày. Một ngày để trống: không cấp số ngày đó."),
                          groups=[(_("Giờ làm việc (hiển thị cho công dân)"), "work_"), (_("Giờ lấy số (kiosk cấp số)"), "issue_")])


@bp.route("/alerts", methods=["GET", "POST"])
@login_required_page(*ROLES)
def alerts():
    with state().db.read() as s:
        office = page_office(s)
        limits = thresholds(office)
        services = [(svc.code, svc.name) for svc in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id))]
    keys = ("wait_alert_minutes", "device_offline_minutes", "printer_failure_minutes")
    form = F.AlertsForm(data={k: limits[k] for k in keys} if request.method == "GET" else None)

    def field_alerts(_s: Session, _office: Office) -> list[tuple[str, str, str]]:
        current = limits["field_wait_alert_minutes"]
        return [(code, name, request.form.get(f"field-alert-{code}", "") if request.method == "POST" else str(current.get(code, "")))
                for code, name in services]

    def updates(office: Office) -> dict[str, Any]:
        per_field: dict[str, int] = {}
        for code, _name in services:
            raw = (request.form.get(f"field-alert-{code}") or "").strip()
            if raw:
                value = int_or_none(raw)
                if value is None or value < 1:
                    raise cs.invalid(f"field-alert-{code}", "Hãy nhập số phút từ 1 trở lên, hoặc để trống để dùng ngưỡng chung.",
                                     "Enter 1 minute or more, or leave it empty to use the common threshold.")
                per_field[code] = value
        return {"wait_alert_minutes": form.wait_alert_minutes.data, "device_offline_minutes": form.device_offline_minutes.data,
                "printer_failure_minutes": form.printer_failure_minutes.data, "field_wait_alert_minutes": per_field}

    return settings_page(form, _("Ngưỡng cảnh báo"), updates, field_alerts=field_alerts)


@bp.route("/announcements", methods=["GET", "POST"])
@login_required_page(*ROLES)
def announcements():
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.AnnouncementForm(data={"announcement_template": settings.get("announcement_template", ""),
                                    "announcement_repeat": settings.get("announcement_repeat", 2)} if request.method == "GET" else None)

    def updates(office: Office) -> dict[str, Any]:
        template = form.announcement_template.data.strip()
        try:
            template.format(number="1005", counter=3)
        except (KeyError, IndexError, ValueError):
            raise cs.invalid("announcement_template", "Chỉ dùng {number} và {counter} trong câu mời",
                             "use only {number} and {counter} in the template") from None
        if "{number}" not in template:
            raise cs.invalid("announcement_template", "Câu mời phải có {number}", "the template needs {number}")
        return {"announcement_template": template, "announcement_repeat": form.announcement_repeat.data}

    return settings_page(form, _("Lời mời trên loa"), updates, _("Ví dụ: Xin mời công dân có số thứ tự {number} đến quầy số {counter}"))


@bp.route("/ratings", methods=["GET", "POST"])
@login_required_page(*ROLES)
def ratings():
    from motcua.engine.ratings import DEFAULT_SCALE, DEFAULT_SCALE_EN

    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.RatingForm(data={
        "rating_scale": "\n".join(settings.get("rating_scale") or DEFAULT_SCALE),
        "rating_scale_en": "\n".join(settings.get("rating_scale_en") or DEFAULT_SCALE_EN),
        "rating_low_count": settings.get("rating_low_count", 1), "rating_seconds": settings.get("rating_seconds", 30),
    } if request.method == "GET" else None)

    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    def updates(office: Office) -> dict[str, Any]:
        return {"rating_scale": lines(form.rating_scale.data), "rating_scale_en": lines(form.rating_scale_en.data),
                "rating_low_count": form.rating_low_count.data, "rating_seconds": form.rating_seconds.data}

    return settings_page(form, _("Đánh giá hài lòng"), updates,
                          _("Mức 1 là tốt nhất. Báo cáo tính “hài lòng” là nửa tốt của thang (4 hoặc 5 mức: hai mức đầu)."))


@bp.route("/kiosk", methods=["GET", "POST"])
@login_required_page(*ROLES)
def kiosk():
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.KioskForm(data={"kiosk_reset_seconds": settings.get("kiosk_reset_seconds", 20),
                             "print_max_age_seconds": settings.get("print_max_age_seconds", 60)} if request.method == "GET" else None)
    return settings_page(form, _("Kiosk và in phiếu"), lambda office: {
        "kiosk_reset_seconds": form.kiosk_reset_seconds.data, "print_max_age_seconds": form.print_max_age_seconds.data})
