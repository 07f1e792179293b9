"""/manager/staffing: counters each field needs each hour (staffing advice, simulated from the
last weeks' history: `motcua.simulation.staffing`) beside the counters really open, a chart,
and the table as XLSX. The advice is computed in a process of its own and kept for the day
(`motcua.simulation.staffing_jobs`); until it is ready the page says "đang tính" and reloads."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, render_template, request, url_for

from manager import exports
from manager.access import page_office
from manager.api import xlsx_download
from manager.views import PAGE_ROLES, _helpers, nav_context
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.simulation import staffing_jobs
from motcua.simulation.staffing import target_minutes
from motcua.state import state

bp = Blueprint("manager_staffing", __name__, url_prefix="/manager", template_folder="templates")
bp.context_processor(_helpers)  # the manager layout's helpers (language switch)
WEEKS = (2, 4, 6, 8)
WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
COLUMNS = [  # key, Vietnamese heading, XLSX kind
    ("weekday", "Thứ", ""), ("hour", "Giờ", ""), ("service", "Lĩnh vực", ""), ("service_name", "Tên lĩnh vực", ""),
    ("arrivals", "Lượt đến trung bình trong giờ", "dec"), ("real", "Quầy thực tế mở (quy đổi)", "dec"),
    ("recommended", "Quầy đề xuất", ""), ("p90_min", "Chờ P90 mô phỏng với số đề xuất (phút)", "dec"), ("met", "Đạt mục tiêu", ""),
]


@bp.errorhandler(QueueError)
def _queue_error(exc: QueueError):
    return render_template("error.html", message=(exc.message, exc.message_en)), exc.status


def _params(office) -> tuple[int, float]:
    raw_weeks, raw_target = request.args.get("weeks", "4"), request.args.get("target")
    try:
        weeks = int(raw_weeks)
        target = float(raw_target) if raw_target not in (None, "") else float(target_minutes(office))
    except ValueError:
        weeks = target = 0
    if weeks not in WEEKS or not 1 <= target <= 240:
        raise QueueError("bad_staffing_params", f"Số tuần phải là một trong {', '.join(map(str, WEEKS))}, mục tiêu từ 1 đến 240 phút.",
                         f"Weeks must be one of {', '.join(map(str, WEEKS))}, the target 1 to 240 minutes.", status=422)
    return weeks, round(target, 1)


def _advice(office, weeks: int, target: float, start: bool = True) -> tuple[str, dict | None, str | None]:
    """('ready', result, None), ('running', None, None), ('busy', None, None: other jobs take the
    places) or ('failed', None, why); starts the job when needed."""
    st = state()
    day = clock.business_day(clock.now(), office.timezone)
    k = staffing_jobs.key(office.code, weeks, target, day)
    result = staffing_jobs.load(st.instance, k)
    if result is not None:
        return "ready", result, None
    if staffing_jobs.running(st.instance, k):
        return "running", None, None
    why = staffing_jobs.failure(st.instance, k)
    if why and not request.args.get("retry"):
        return "failed", None, why
    if not start:
        return "missing", None, None
    if staffing_jobs.busy(st.instance):
        return "busy", None, None
    staffing_jobs.start(st.instance, st.config_path, st.settings["database_url"], office.code, weeks, target, k)
    return "running", None, None


def _names(result: dict) -> dict[str, str]:
    return {f["code"]: f["name"] for f in result["fields"]}


@bp.get("/staffing")
@login_required_page(*PAGE_ROLES)
def staffing_page():
    with state().db.read() as s:
        office = page_office(s)
        weeks, target = _params(office)
        default_target = target_minutes(office)
    status, result, why = _advice(office, weeks, target)
    weekdays = sorted({r["weekday"] for r in result["rows"]}) if result else []
    try:
        weekday = int(request.args.get("weekday") or 0)
    except ValueError:
        weekday = 0
    if weekday not in weekdays:
        weekday = weekdays[0] if weekdays else 0
    rows = [r for r in result["rows"] if r["weekday"] == weekday] if result else []
    hours = sorted({r["hour"] for r in rows})
    names = _names(result) if result else {}
    table = {}
    for r in rows:
        table.setdefault(r["service"], {})[r["hour"]] = r
    chart = {
        "hours": hours,
        "recommended": [sum(r["recommended"] for r in rows if r["hour"] == h) for h in hours],
        "real": [round(sum(r["real"] for r in rows if r["hour"] == h), 2) for h in hours],
    }
    args = {"weeks": weeks, "target": f"{target:g}"}
    if len(nav_context(office)["offices"]) > 1:
        args["office"] = office.code
    return render_template(
        "manager/staffing.html", status=status, result=result, why=why, weeks=weeks, target=target, default_target=default_target,
        week_choices=WEEKS, weekdays=weekdays, weekday=weekday, hours=hours, table=table, names=names, chart=chart, args=args,
        xlsx_url=url_for("manager_staffing.staffing_workbook", **args), status_url=url_for("manager_staffing.staffing_status", **args),
        **nav_context(office),
    ), (202 if status == "running" else 200)


@bp.get("/staffing/status")
@login_required_page(*PAGE_ROLES)
def staffing_status():
    """What the waiting page polls (it reloads once the advice is no longer being computed)."""
    with state().db.read() as s:
        office = page_office(s)
        weeks, target = _params(office)
    status, _, _ = _advice(office, weeks, target, start=False)
    return jsonify(status=status)


@bp.get("/staffing/export.xlsx")
@login_required_page(*PAGE_ROLES)
def staffing_workbook():
    with state().db.read() as s:
        office = page_office(s)
        weeks, target = _params(office)
    status, result, why = _advice(office, weeks, target)
    if result is None:
        raise QueueError("staffing_not_ready", "Đề xuất bố trí quầy đang được tính, vui lòng thử lại sau ít phút.",
                         "The staffing advice is still being computed; try again in a few minutes.", status=409)
    start, end = date.fromisoformat(result["from"]), date.fromisoformat(result["to"])
    book = exports.Book()
    exports.add_info_sheet(book, office.name, start, end, office.timezone, [
        ("Nội dung", "Đề xuất số quầy mỗi lĩnh vực mỗi giờ để thời gian chờ P90 không quá mục tiêu (mô phỏng từ số liệu thật)."),
        ("Mục tiêu chờ P90", f"{result['target_p90_min']:g} phút"),
        ("Quầy quy đổi", "Quầy dùng chung cho nhiều lĩnh vực được tính cho từng lĩnh vực theo tỷ lệ lượt gọi của quầy đó; "
                         "thời gian tạm dừng không tính."),
        ("Lượt đến", "Trung bình số lượt vào hàng đợi của lĩnh vực trong giờ đó, trên các ngày làm việc cùng thứ."),
    ])
    names = _names(result)
    ws = book.sheet("Đề xuất bố trí quầy", [h for _, h, _ in COLUMNS], [8, 8, 10, 30, 14, 14, 12, 16, 10])
    for i, r in enumerate(result["rows"], start=1):
        row = {**r, "weekday": WEEKDAY_VI[r["weekday"] - 1], "service_name": names.get(r["service"], r["service"]),
               "met": "Có" if r["met"] else "Không"}
        for j, (k, _, kind) in enumerate(COLUMNS):
            book.write(ws, i, j, row.get(k), kind)
    name = exports.filename(f"bo-tri-quay-{weeks}tuan-p90-{target:g}", office.code, start, end, "xlsx")
    return xlsx_download(book.close(), name)
