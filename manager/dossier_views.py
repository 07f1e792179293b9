"""The dossier pages and report: /manager/dossiers (search a dossier code: the time line of its
visits; the procedure areas of a period) and GET /api/v1/reports/dossiers (by area, JSON/CSV/XLSX)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from manager import dossier_reports, exports
from manager.access import page_office
from manager.api import _PARAMS as REPORT_PARAMS
from manager.api import bp as reports_api
from manager.api import download, request_format, request_range, xlsx_download
from manager.views import PAGE_ROLES, _helpers, _page_range, nav_context
from motcua import auth
from motcua.api.routing import ROUTES, RouteDoc
from motcua.auth import MANAGERS, login_required_page
from motcua.state import state

bp = Blueprint("manager_dossiers", __name__, url_prefix="/manager", template_folder="templates")
bp.context_processor(_helpers)  # the manager layout's helpers (language switch)


@bp.get("/dossiers")
@login_required_page(*PAGE_ROLES)
def dossiers_page():
    code = (request.args.get("code") or "").strip().upper()[:64]
    with state().db.read() as s:
        office = page_office(s)
        start, end = _page_range(office)
        visits = dossier_reports.timeline(s, office, code) if code else []
        areas = dossier_reports.by_area(s, office, start, end)
    args = {"from": start.isoformat(), "to": end.isoformat(), "office": office.code}
    return render_template("manager/dossiers.html", code=code, visits=visits, areas=areas, start=start, end=end, args=args,
                           **nav_context(office))


def _area_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    return [h for _, h in dossier_reports.AREA_COLUMNS], [[r[k] for k, _ in dossier_reports.AREA_COLUMNS] for r in rows]


@reports_api.get("/dossiers")
def dossiers_report():
    p = auth.check(roles=MANAGERS)
    fmt = request_format()
    with state().db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        start, end = request_range(office)
        rows = dossier_reports.by_area(s, office, start, end)
    if fmt == "json":
        return jsonify(office=office.code, **{"from": start.isoformat(), "to": end.isoformat()},
                       columns=[{"key": k, "header": h} for k, h in dossier_reports.AREA_COLUMNS], rows=rows)
    name = exports.filename("ho-so-theo-linh-vuc", office.code, start, end, fmt)
    header, table = _area_table(rows)
    if fmt == "csv":
        return download("".join(exports.csv_lines(header, table)), exports.CSV_MIME, name)
    book = exports.Book()
    exports.add_info_sheet(book, office.name, start, end, [("Nội dung", "Hồ sơ theo lĩnh vực thủ tục (phần mã hồ sơ).")])
    ws = book.sheet("Theo lĩnh vực thủ tục", header, [24] + [14] * (len(header) - 1))
    for i, row in enumerate(table, start=1):
        for j, v in enumerate(row):
            book.write(ws, i, j, v, "dec" if header[j].endswith("(giây)") else "")
    return xlsx_download(book.close(), name)


def register_docs() -> None:
    doc = RouteDoc("/reports/dossiers", "get", "Dossiers by procedure area (the area part of the dossier code): waits, service, ratings, results returned",
                   "manager, admin", params=list(REPORT_PARAMS))
    if (doc.path, doc.method) not in {(r.path, r.method) for r in ROUTES}:
        ROUTES.append(doc)
