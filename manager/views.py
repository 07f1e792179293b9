"""Manager pages: the live dashboard, the reports with charts, the monthly print page and the
report workbook download."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from manager import dashboard, exports, notification_reports, reports
from manager.access import page_office, visible_offices
from manager.api import xlsx_download
from motcua import auth
from motcua.auth import MANAGERS, login_required_page
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.json_errors import queue_error
from motcua.models import Role
from motcua.state import state

bp = Blueprint("manager", __name__, url_prefix="/manager", template_folder="templates", static_folder="static",
               static_url_path="/static")
PAGE_ROLES = (Role.manager, Role.admin)
OUT_OF_ORDER_SHOWN = 200


@bp.errorhandler(QueueError)
def _queue_error(exc: QueueError):
    """JSON routes answer in the API's error shape; pages show the message."""
    if request.path.startswith("/manager/api/"):
        return queue_error(exc)
    return render_template("error.html", message=(exc.message, exc.message_en)), exc.status


@bp.app_template_filter("mgr_date")
def vn_date(value) -> str:
    """dd/mm/yyyy, the way dates are written in Vietnam."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


@bp.app_template_filter("mgr_mmss")
def minutes(seconds) -> str:
    """Seconds as m:ss (or h:mm:ss), the way waits are read."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    sign = "−" if s < 0 else ""
    s = abs(s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


@bp.app_template_filter("mgr_pct")
def percent(share) -> str:
    if share is None:
        return "—"
    text = f"{share * 100:.1f}"
    return text.replace(".", ",") + " %"


def weekday_names() -> list[str]:
    return [_("Thứ Hai"), _("Thứ Ba"), _("Thứ Tư"), _("Thứ Năm"), _("Thứ Sáu"), _("Thứ Bảy"), _("Chủ nhật")]


def nav_context(office) -> dict:
    with state().db.read() as s:
        offices = [(o.code, o.name) for o in visible_offices(s)]
    return {"office": office, "offices": offices}


# ---- dashboard -------------------------------------------------------------------------


@bp.get("/")
@login_required_page(*PAGE_ROLES)
def dashboard_page():
    with state().db.read() as s:
        office = page_office(s)
        data = dashboard.today(s, office)
    return render_template("manager/dashboard.html", data=data, **nav_context(office))


@bp.get("/api/today")
def today_json():
    p = auth.check(roles=MANAGERS)
    with state().db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        return jsonify(dashboard.today(s, office))


# ---- reports ---------------------------------------------------------------------------


def _page_range(office) -> tuple[date, date]:
    today = clock.business_day(clock.now(), office.timezone)
    start = reports.parse_day(request.args.get("from"), today.replace(day=1), "from")
    end = reports.parse_day(request.args.get("to"), today if start <= today else start, "to")
    reports.check_range(start, end)
    return start, end


def quick_ranges(today: date) -> list[tuple[str, date, date]]:
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [
        (_("Hôm nay"), today, today),
        (_("7 ngày qua"), today - timedelta(days=6), today),
        (_("Tháng này"), first, today),
        (_("Tháng trước"), last_month_end.replace(day=1), last_month_end),
        (_("Năm nay"), today.replace(month=1, day=1), today),
    ]


@bp.get("/reports")
@login_required_page(*PAGE_ROLES)
def report_page():
    group_by = reports.normalise_group(request.args.get("group_by") or "service")
    with state().db.read() as s:
        office = page_office(s)
        start, end = _page_range(office)
        main = reports.summary(s, office, start, end, group_by)
        by_counter = main.rows if group_by == "counter" else reports.wait_stats(s, office, start, end, "counter")
        heat = reports.arrivals_heatmap(s, office, start, end)
        calls = reports.out_of_order_calls(s, office, start, end, limit=OUT_OF_ORDER_SHOWN + 1)
        punctuality = reports.appointment_punctuality(s, office, start, end)
        deliveries = notification_reports.delivery_summary(s, office, start, end)
    today = clock.business_day(clock.now(), office.timezone)
    histogram = reports.wait_histogram(main.waits_ms)
    charts = {
        "heatmap": heat,
        "weekdays": weekday_names(),
        "histogram": histogram,
        "counters": [
            {"label": r["label"], "mean": r["wait_mean_s"], "median": r["wait_median_s"], "p90": r["wait_p90_s"]}
            for r in by_counter if r["key"] is not None
        ],
    }
    args = {"from": start.isoformat(), "to": end.isoformat(), "office": office.code}
    return render_template(
        "manager/report.html",
        summary=main, charts=charts, calls=calls[:OUT_OF_ORDER_SHOWN], more_calls=len(calls) > OUT_OF_ORDER_SHOWN, punctuality=punctuality,
        start=start, end=end, group_by=group_by, groups=reports.GROUPS, quick=quick_ranges(today), args=args, deliveries=deliveries,
        month=start.strftime("%Y-%m"), **nav_context(office),
    )


@bp.get("/reports/export.xlsx")
@login_required_page(*PAGE_ROLES)
def report_workbook():
    """Every summary of the range in one workbook, a sheet per table."""
    with state().db.read() as s:
        office = page_office(s)
        start, end = _page_range(office)
        summaries = [reports.summary(s, office, start, end, g) for g in reports.GROUPS]
        heat = reports.arrivals_heatmap(s, office, start, end)
        calls = reports.out_of_order_calls(s, office, start, end)
        histogram = reports.wait_histogram(summaries[0].waits_ms)
        deliveries = notification_reports.delivery_summary(s, office, start, end)
        fh = exports.summary_xlsx(summaries, histogram=histogram, heatmap=heat, out_of_order=calls,
                                  punctuality=reports.appointment_punctuality(s, office, start, end), deliveries=deliveries)
    return xlsx_download(fh, exports.filename("bao-cao", office.code, start, end, "xlsx"))


@bp.get("/reports/monthly")
@login_required_page(*PAGE_ROLES)
def monthly_page():
    """A month on paper: every table, no scripts needed (@media print)."""
    with state().db.read() as s:
        office = page_office(s)
        today = clock.business_day(clock.now(), office.timezone)
        raw = request.args.get("month") or today.strftime("%Y-%m")
        try:
            year, month = (int(p) for p in raw.split("-"))
            start, end = reports.month_range(year, month)
        except ValueError:
            raise QueueError("bad_month", f"Tháng '{raw}' không hợp lệ: dùng YYYY-MM.", f"Invalid month '{raw}': use YYYY-MM.", status=422) from None
        tables = {g: reports.summary(s, office, start, end, g) for g in ("service", "counter", "clerk", "day")}
        heat = reports.arrivals_heatmap(s, office, start, end)
        calls = reports.out_of_order_calls(s, office, start, end, limit=OUT_OF_ORDER_SHOWN + 1)
    prev_month = (start - timedelta(days=1)).strftime("%Y-%m")
    next_month = (end + timedelta(days=1)).strftime("%Y-%m")
    peak = max((n for row in heat for n in row), default=0)
    return render_template(
        "manager/monthly.html", tables=tables, total=tables["service"], heat=heat, peak=peak,
        calls=calls[:OUT_OF_ORDER_SHOWN], more_calls=len(calls) > OUT_OF_ORDER_SHOWN,
        start=start, end=end, month=f"{month:02d}/{year}", prev_month=prev_month, next_month=next_month,
        weekdays=weekday_names(), generated=clock.local(clock.now(), office.timezone),
        **nav_context(office),
    )


def export_links(args: dict, group_by: str) -> dict[str, str]:
    return {
        "summary_csv": url_for("reports_api.summary", group_by=group_by, format="csv", **args),
        "summary_xlsx": url_for("reports_api.summary", group_by=group_by, format="xlsx", **args),
        "tickets_csv": url_for("reports_api.tickets", format="csv", **args),
        "tickets_xlsx": url_for("reports_api.tickets", format="xlsx", **args),
        "workbook": url_for("manager.report_workbook", **args),
    }


@bp.context_processor
def _helpers() -> dict:
    return {
        "export_links": export_links,
        "lang_url": lang_url,
        "weekday_label": lambda k: weekday_names()[int(k) - 1],
        "group_headings": {
            "service": _("Theo lĩnh vực"), "counter": _("Theo quầy"), "clerk": _("Theo cán bộ"),
            "hour": _("Theo giờ"), "weekday": _("Theo thứ"), "day": _("Theo ngày"), "source": _("Theo nguồn lấy số"),
        },
        "group_titles": {
            "service": _("Lĩnh vực"), "counter": _("Quầy"), "clerk": _("Cán bộ"),
            "hour": _("Giờ"), "weekday": _("Thứ"), "day": _("Ngày"), "source": _("Nguồn"),
        },
    }


def lang_url(code: str) -> str:
    """This page in the other language (the choice is kept in a cookie by the core)."""
    args = request.args.to_dict()
    args["lang"] = code
    return url_for(request.endpoint, **(request.view_args or {}), **args)
