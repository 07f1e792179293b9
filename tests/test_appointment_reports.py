"""Reports with appointments: the summary grouped by source has an "appointment" row, and the
punctuality table (in window, early, late, never) is on the reports page and in its workbook."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from manager import reports
from motcua import dayend
from motcua.engine import clock
from motcua.models import Office
from tests.support.demo import login
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = REPO / "tests" / "data" / "appointments.toml"


def at(h: int, m: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 9, day, h, m, tzinfo=HCM)


def test_source_rows_and_punctuality(make_app) -> None:
    app, demos = make_app(config=CONFIG)
    client, demo, db = app.test_client(), demos["demo"], app.extensions["motcua"].db
    codes = {}
    with time_machine.travel(at(7), tick=False):
        for i, (service, hh, mm) in enumerate((("HT", 9, 0), ("HT", 9, 0), ("HT", 9, 15), ("CT", 9, 0), ("HT", 10, 0))):
            r = client.post("/api/v1/public/appointments", json={
                "office": "demo", "service": service, "start": at(hh, mm).astimezone(ZoneInfo("UTC")).isoformat(),
                "name": f"Người {i}", "phone": f"091100000{i}"})
            assert r.status_code == 201, r.json
            codes[i] = r.json["code"]
        client.post(f"/api/v1/public/appointments/{codes[4]}/cancel")  # cancelled: in no count
    for i, when in ((0, at(8, 30)), (1, at(8, 50)), (3, at(9, 11))):  # early, in window, late; 2 never comes
        with time_machine.travel(when, tick=False):
            assert client.post("/api/v1/tickets", json={"appointment": codes[i]}, headers=demo.kiosk).status_code == 201
    with time_machine.travel(at(9, 20), tick=False):
        assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).status_code == 201
        h = demo.clerk(1).headers
        for _ in range(4):
            assert client.post("/api/v1/counters/1/next", headers=h).json["ticket"] is not None
            client.post("/api/v1/counters/1/start", headers=h)
            client.post("/api/v1/counters/1/finish", headers=h)
    with db.read() as s:
        office_id = s.scalar(select(Office.id))
    with time_machine.travel(at(0, 5, day=8), tick=False):
        dayend.close_day(db, office_id, clock.now())
        period = "from=2026-09-07&to=2026-09-07"
        r = client.get(f"/api/v1/reports/summary?group_by=source&{period}", headers=demo.manager.headers)
        rows = {row["key"]: row for row in r.json["rows"]}
        assert list(rows) == ["kiosk", "appointment"] and rows["appointment"]["label"] == "Đặt lịch hẹn"
        assert (rows["appointment"]["issued"], rows["appointment"]["served"], rows["kiosk"]["issued"]) == (3, 3, 1)
        with db.read() as s:
            table = reports.appointment_punctuality(s, s.get(Office, office_id), at(0).date(), at(0).date())
        assert [(r["service"], r["booked"], r["in_window"], r["early"], r["late"], r["never"]) for r in table] == [
            ("HT", 3, 1, 1, 0, 1), ("CT", 1, 0, 0, 1, 0), (None, 4, 1, 1, 1, 1)]
        assert table[-1]["in_window_share"] == 0.25
        login(client, demo.manager)
        page = client.get(f"/manager/reports?{period}").get_data(as_text=True)
        assert 'id="punctuality"' in page and "Đến đúng khung giờ" in page
        book = client.get(f"/manager/reports/export.xlsx?{period}")
        assert book.status_code == 200
        with zipfile.ZipFile(io.BytesIO(book.data)) as z:
            xml = b"".join(z.read(n) for n in z.namelist())
        assert "Lịch hẹn đúng giờ".encode() in xml and "Không đến".encode() in xml
