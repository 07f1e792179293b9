"""Every report figure of the scripted day (tests/support/report_day.py), asked of the API in
JSON, CSV and XLSX, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import select

from manager import reports
from motcua.models import Office
from tests.support.report_day import (
    CT,
    DAY,
    DD,
    EXPECTED,
    HT,
    KD,
    LOG,
    LOG_KEYS,
    OOO_REASON,
    TIMES,
    TOTAL,
    XH,
    at,
    expected_log_json,
    local,
    script_day,
    use_legacy_estimates,
)

# ---- tests ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _legacy_estimates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted day's tickets print the ranges of the estimator before issue 18
    (bench/legacy_estimate.py): the report's definitions are checked against those fixed,
    hand-checked ranges, whatever estimator the engine uses now."""
    use_legacy_estimates(monkeypatch)


@pytest.fixture
def day_app(make_app):
    """The app on SQLite with the day played."""
    app, demos = make_app()
    client = app.test_client()
    script_day(client, demos["demo"])
    return app, client, demos["demo"]


def summary(client, demo, group_by: str, fmt: str = "json"):
    return client.get(f"/api/v1/reports/summary?group_by={group_by}&from={DAY}&to={DAY}&format={fmt}", headers=demo.manager.headers)


def test_every_summary_figure(day_app) -> None:
    check_every_summary_figure(*day_app)


def check_every_summary_figure(app, client, demo) -> None:
    for group_by, rows in EXPECTED.items():
        r = summary(client, demo, group_by)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["from"] == body["to"] == DAY
        assert body["group_by"] == group_by
        assert body["rating_scale"] == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
        # Printed widths 5, 3, 4, 6, 2, 3 (median 3.5); of the 8 first legs issued into HT, CT and
        # DD (served that day; KD and XH were not), 6 had a range (A001 and C001 came too early).
        total = body["total"]
        assert (total.pop("eta_median_width_min"), total.pop("eta_known_share")) == (3.5, 0.75), group_by
        assert total == TOTAL, group_by
        for row in body["rows"]:
            row.pop("eta_median_width_min"), row.pop("eta_known_share")
        assert body["rows"] == rows, group_by


def test_every_row_of_the_ticket_log(day_app) -> None:
    check_every_row_of_the_ticket_log(*day_app)


def check_every_row_of_the_ticket_log(app, client, demo) -> None:
    r = client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}", headers=demo.manager.headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == 11
    assert [c["key"] for c in body["columns"]] == ["business_day", *LOG_KEYS, "dossiers"]
    assert body["rows"] == expected_log_json()
    # Pages of the log join up.
    first = client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}&limit=4", headers=demo.manager.headers).get_json()
    rest = client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}&limit=10&offset=4", headers=demo.manager.headers).get_json()
    assert first["rows"] + rest["rows"] == body["rows"]


def test_charts_and_out_of_order_audit(day_app) -> None:
    check_charts_and_out_of_order_audit(*day_app)


def check_charts_and_out_of_order_audit(app, client, demo) -> None:
    from datetime import date

    with app.extensions["motcua"].db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        d = date(2026, 3, 2)
        grid = reports.arrivals_heatmap(s, office, d, d)
        calls = reports.out_of_order_calls(s, office, d, d)
        waits = reports.summary(s, office, d, d, "counter").waits_ms
        per_counter = reports.wait_stats(s, office, d, d, "counter")
    assert per_counter == [
        {"key": 1, "label": "Quầy 1 — Hộ tịch", "called": 4, "wait_mean_s": 525.0, "wait_median_s": 540.0, "wait_p90_s": 780.0},
        {"key": 2, "label": "Quầy 2 — Chứng thực", "called": 3, "wait_mean_s": 240.0, "wait_median_s": 60.0, "wait_p90_s": 630.0},
        {"key": 3, "label": "Quầy 3 — Đất đai", "called": 2, "wait_mean_s": 450.0, "wait_median_s": 450.0, "wait_p90_s": 540.0},
    ]
    monday = [0] * 24
    monday[7], monday[8], monday[9] = 7, 2, 1
    assert grid == [monday] + [[0] * 24 for _ in range(6)]
    assert [b["count"] for b in reports.wait_histogram(waits)] == [3, 3, 3] + [0] * 10
    assert len(calls) == 1
    call = calls[0]
    assert call["at"].isoformat() == local("07:56:30")
    assert (call["ticket_code"], call["service"], call["counter"], call["clerk"], call["reason"], call["wait_s"], call["passed_over"]) == (
        "A004", "HT", 2, "Clerk2 demo", OOO_REASON, 30.0, 1
    )


SERVICE_HEADER = [
    "Mã lĩnh vực", "Lĩnh vực", "Lượt xếp hàng", "Số phiếu cấp", "Chuyển đến", "Đã phục vụ", "Vắng mặt", "Đã hủy", "Chuyển đi",
    "Chưa kết thúc", "Lượt ưu tiên", "Tỷ lệ ưu tiên (%)", "Lượt được gọi", "Chờ trung bình (phút)", "Chờ trung vị (phút)",
    "Chờ P90 (phút)", "Chờ lâu nhất (phút)", "Lượt có thời gian phục vụ", "Phục vụ trung bình (phút)", "Phục vụ trung vị (phút)",
    "Phục vụ P90 (phút)", "Số lần gọi lại", "Gọi không theo thứ tự", "Số đánh giá", "Hài lòng", "Tỷ lệ hài lòng (%)",
    "Đánh giá mức 1: Rất hài lòng", "Đánh giá mức 2: Hài lòng", "Đánh giá mức 3: Bình thường", "Đánh giá mức 4: Không hài lòng",
    "Lượt có dự kiến", "Chờ đúng dự kiến", "Tỷ lệ đúng dự kiến (%)", "Sai lệch dự kiến TB (phút)", "Sai lệch tuyệt đối TB (phút)",
]
# The HT row and the total in spreadsheet units: minutes (2 decimals) and percentages.
HT_CELLS = ["HT", "Hộ tịch", 4, 4, 0, 2, 1, 0, 1, 0, 1, 25.0, 4, 5.75, 6.0, 10.5, 10.5, 3, 9.5, 8.5, 15.0, 1, 1, 1, 1, 100.0,
            1, 0, 0, 0, 3, 1, 33.33, 1.17, 1.5]
TOTAL_CELLS = [None, "Tổng cộng", 11, 10, 1, 6, 2, 1, 1, 1, 1, 9.09, 9, 6.89, 8.0, 13.0, 13.0, 7, 7.5, 7.0, 15.0, 1, 1, 3, 2, 66.67,
               1, 1, 0, 1, 6, 2, 33.33, 3.58, 3.75]


def _number(text: str):
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def test_summary_csv_and_xlsx_read_back(day_app) -> None:
    check_summary_csv_and_xlsx_read_back(*day_app)


def check_summary_csv_and_xlsx_read_back(app, client, demo) -> None:
    r = summary(client, demo, "service", "csv")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == SERVICE_HEADER
    assert [_number(v) for v in rows[1]] == HT_CELLS
    assert [_number(v) for v in rows[-1]] == TOTAL_CELLS
    assert [row[1] for row in rows[1:]] == [HT, CT, DD, KD, XH, "Tổng cộng"]

    r = summary(client, demo, "service", "xlsx")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Thông tin", "Theo lĩnh vực"]
    values = list(wb["Theo lĩnh vực"].iter_rows(values_only=True))
    assert list(values[0]) == SERVICE_HEADER
    assert list(values[1]) == HT_CELLS
    assert list(values[-1]) == TOTAL_CELLS
    assert len(values) == 7


def _log_cells(row: tuple) -> list:
    """An expected log row as spreadsheet cells: local times without offset, empty as None."""
    cells = [datetime(2026, 3, 2)]
    for k, v in zip(LOG_KEYS, row, strict=True):
        if k in TIMES:
            v = at(v).replace(tzinfo=None) if v else None
        elif k == "out_of_order":
            v = "Có" if v else None
        cells.append(v)
    return [*cells, None]  # dossiers


def test_ticket_log_csv_and_xlsx_read_back(day_app) -> None:
    check_ticket_log_csv_and_xlsx_read_back(*day_app)


def check_ticket_log_csv_and_xlsx_read_back(app, client, demo) -> None:
    r = client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}&format=csv", headers=demo.manager.headers)
    assert r.status_code == 200
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == [h for _, h in reports.TICKET_COLUMNS]
    assert len(rows) == 12
    for got, row in zip(rows[1:], expected_log_json(), strict=True):
        want = ["Có" if v is True else "" if v is None or v is False else str(v) for v in row.values()]
        assert got == want

    r = client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}&format=xlsx", headers=demo.manager.headers)
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Thông tin", "Nhật ký"]
    values = [list(v) for v in wb["Nhật ký"].iter_rows(values_only=True)]
    assert values[0] == [h for _, h in reports.TICKET_COLUMNS]
    assert values[1:] == [_log_cells(row) for row in LOG]


def test_report_api_errors(day_app) -> None:
    check_report_api_errors(*day_app)


def check_report_api_errors(app, client, demo) -> None:
    h = demo.manager.headers
    cases = [
        ("/api/v1/reports/summary?group_by=colour", 422, "bad_group_by"),
        ("/api/v1/reports/summary?from=2026-13-01", 422, "bad_date"),
        ("/api/v1/reports/summary?from=2026-03-05&to=2026-03-01", 422, "bad_range"),
        ("/api/v1/reports/summary?format=pdf", 422, "bad_format"),
        ("/api/v1/reports/tickets?limit=0", 422, "bad_parameter"),
        ("/api/v1/reports/summary?office=elsewhere", 404, "unknown_office"),
    ]
    for url, status, code in cases:
        r = client.get(url, headers=h)
        assert r.status_code == status, url
        err = r.get_json()["error"]
        assert err["code"] == code and err["message"] and err["message_en"]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/reports/summary", "/reports/tickets"} <= set(paths)
    assert paths["/reports/summary"]["get"]["security"]


@pytest.mark.postgres
def test_the_same_day_on_postgresql(pg_url, make_app) -> None:
    """Local hours, durations and percentiles come out the same on PostgreSQL."""
    app, demos = make_app(database_url=pg_url)
    client = app.test_client()
    script_day(client, demos["demo"])
    for check in (check_every_summary_figure, check_every_row_of_the_ticket_log, check_charts_and_out_of_order_audit,
                  check_summary_csv_and_xlsx_read_back, check_ticket_log_csv_and_xlsx_read_back, check_report_api_errors):
        check(app, client, demos["demo"])
