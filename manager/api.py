"""GET /api/v1/reports/summary and /api/v1/reports/tickets: the reports for scripts and
spreadsheets (manager or admin: browser session or a user API token).

The core's API blueprint is registered before rooms load, so these routes live on this room's
own blueprint under the same prefix, answer errors in the core's JSON shape, and add themselves
to the OpenAPI document (motcua.api.routing.ROUTES).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request, send_file, stream_with_context

from manager import exports, reports
from motcua import auth
from motcua.api.routing import ROUTES, RouteDoc
from motcua.auth import MANAGERS
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.json_errors import use_json_errors
from motcua.models import Office
from motcua.state import state

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
use_json_errors(bp, internal=("Lỗi hệ thống khi lập báo cáo, vui lòng thử lại.", "Internal error while making the report, please retry."))

FORMATS = ("json", "csv", "xlsx")
TICKETS_PAGE = 1000
TICKETS_PAGE_MAX = 10000

_PARAMS = [
    {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "First business day, YYYY-MM-DD (default: today in the office's time zone)"},
    {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "Last business day, YYYY-MM-DD (default: `from`)"},
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": list(FORMATS), "default": "json"}},
    {"name": "office", "in": "query", "required": False, "schema": {"type": "string"}, "description": "Office code (admins of several offices)"},
]
DOCS = [
    RouteDoc(
        "/reports/summary", "get",
        "Waiting and service times (mean, median, p90), outcomes, priority share, ratings and estimate accuracy per group",
        "manager, admin",
        params=[{"name": "group_by", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(reports.GROUPS), "default": "service"}}] + _PARAMS,
    ),
    RouteDoc(
        "/reports/tickets", "get",
        "The per-leg log: every timestamp, counter, clerk, field, wait, service time and rating (JSON pages of `limit` rows)",
        "manager, admin",
        params=_PARAMS + [
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "default": TICKETS_PAGE, "maximum": TICKETS_PAGE_MAX},
             "description": "JSON only"},
            {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "default": 0}, "description": "JSON only"},
        ],
    ),
]


def register_docs() -> None:
    known = {(r.path, r.method) for r in ROUTES}
    for doc in DOCS:
        if (doc.path, doc.method) not in known:
            ROUTES.append(doc)


def request_range(office: Office) -> tuple[date, date]:
    today = clock.business_day(clock.now(), office.timezone)
    start = reports.parse_day(request.args.get("from"), today, "from")
    end = reports.parse_day(request.args.get("to"), start, "to")
    reports.check_range(start, end)
    return start, end


def request_format() -> str:
    fmt = (request.args.get("format") or "json").lower()
    if fmt not in FORMATS:
        raise QueueError("bad_format", "Định dạng phải là json, csv hoặc xlsx.", "The format must be json, csv or xlsx.", status=422)
    return fmt


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        raise QueueError("bad_parameter", f"Tham số {name} phải là số nguyên.", f"The {name} parameter must be an integer.", status=422) from None
    if not lo <= value <= hi:
        raise QueueError("bad_parameter", f"Tham số {name} phải từ {lo} đến {hi}.", f"The {name} parameter must be from {lo} to {hi}.", status=422)
    return value


def download(body, mimetype: str, name: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def xlsx_download(fh, name: str) -> Response:
    resp = send_file(fh, mimetype=exports.XLSX_MIME, as_attachment=True, download_name=name)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/summary")
def summary():
    p = auth.check(roles=MANAGERS)
    fmt = request_format()
    group_by = reports.normalise_group(request.args.get("group_by"))
    with state().db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        start, end = request_range(office)
        result = reports.summary(s, office, start, end, group_by)
    if fmt == "json":
        return jsonify(result.as_json())
    name = exports.filename(f"tong-hop-{group_by}", office.code, start, end, fmt)
    if fmt == "csv":
        return download(exports.summary_csv(result), exports.CSV_MIME, name)
    return xlsx_download(exports.summary_xlsx([result]), name)


@bp.get("/tickets")
def tickets():
    p = auth.check(roles=MANAGERS)
    fmt = request_format()
    db = state().db
    with db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        start, end = request_range(office)
        office_id, code, name = office.id, office.code, office.name
        if fmt == "json":
            limit = _int_arg("limit", TICKETS_PAGE, 1, TICKETS_PAGE_MAX)
            offset = _int_arg("offset", 0, 0, 10**9)
            total = reports.count_legs(s, office, start, end)
            rows = [reports.ticket_log_json(r) for r in reports.ticket_log(s, office, start, end, limit=limit, offset=offset)]
            return jsonify(
                office={"code": office.code, "name": office.name, "timezone": office.timezone},
                **{"from": start.isoformat(), "to": end.isoformat()},
                total=total, limit=limit, offset=offset,
                columns=[{"key": k, "header": h} for k, h in reports.TICKET_COLUMNS],
                rows=rows,
            )
        if fmt == "xlsx":
            fh = exports.tickets_xlsx(reports.ticket_log(s, office, start, end), name, start, end, office.timezone)
            return xlsx_download(fh, exports.filename("nhat-ky", code, start, end, "xlsx"))

    def stream():  # the session lives as long as the download
        with db.read() as s2:
            office2 = s2.get(Office, office_id)
            yield from exports.tickets_csv(reports.ticket_log(s2, office2, start, end))

    return download(stream_with_context(stream()), exports.CSV_MIME, exports.filename("nhat-ky", code, start, end, "csv"))
