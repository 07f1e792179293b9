"""The dashboard's figures and alerts (/manager/api/today) and its live Socket.IO connection."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from motcua.models import Device, Printer, PrintJob, Ticket
from motcua.realtime import get_socketio
from tests.support.demo import login

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2026, 3, 3, h, m, s, tzinfo=TZ)


def codes(alerts: list[dict]) -> list[tuple[str, str]]:
    return sorted((a["code"], a.get("service") or a.get("printer") or a.get("device")) for a in alerts)


def test_figures_and_alerts(app, demo, db) -> None:
    api = app.test_client()
    h = demo.manager.headers
    with time_machine.travel(at(9, 0), tick=False) as tm:
        assert api.post("/api/v1/counters/1/open", headers=demo.clerk(1).headers).status_code == 200
        first = api.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).get_json()
        api.post("/api/v1/tickets", json={"service": "KD"}, headers=demo.kiosk)
        tm.move_to(at(9, 5))
        api.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
        body = api.get("/manager/api/today", headers=h).get_json()
        assert body["business_day"] == "2026-03-03"
        # KD has someone waiting and no open counter; nobody has waited 30 minutes yet.
        assert codes(body["alerts"]) == [("no_counter", "KD")]

        tm.move_to(at(9, 31))
        with db.write() as s:
            p = s.scalar(select(Printer).where(Printer.name == "kiosk-sanh"))
            p.last_status, p.last_seen_at = {"online": True, "paper": "out", "error": None}, at(9, 30)
            t = s.scalar(select(Ticket).where(Ticket.public_id == first["public_id"]))
            s.add(PrintJob(ticket_id=t.id, printer_id=p.id, status="failed", attempts=3, error="timed out after 4 s",
                           created_at=at(9, 0), updated_at=at(9, 26)))
            hall = s.scalar(select(Device).where(Device.name == "Màn hình sảnh"))
            hall.last_seen_at = at(9, 20)
            kiosk = s.scalar(select(Device).where(Device.name == "Kiosk sảnh"))
            kiosk.last_seen_at = at(9, 29)  # a kiosk that kept calling in
        body = api.get("/manager/api/today", headers=h).get_json()
        assert codes(body["alerts"]) == [
            ("device_offline", "Màn hình sảnh"), ("long_wait", "HT"), ("long_wait", "KD"), ("no_counter", "KD"),
            ("printer_failed", "kiosk-sanh"), ("printer_paper", "kiosk-sanh"),
        ]
        alert = {a["code"]: a for a in body["alerts"] if a.get("service") != "KD"}
        assert alert["long_wait"]["minutes"] == 31
        assert alert["long_wait"]["message"] == "Hộ tịch: có người đã chờ 31 phút (ngưỡng 30 phút)."
        assert alert["device_offline"]["message"] == "Màn hình sảnh “Màn hình sảnh”: không thấy tín hiệu 11 phút."
        assert alert["printer_failed"]["failed"] == 1 and alert["printer_failed"]["error"] == "timed out after 4 s"

        fields = {f["code"]: f for f in body["services"]}
        assert (fields["HT"]["waiting"], fields["HT"]["longest_wait_s"], fields["HT"]["open_counters"]) == (2, 31 * 60, [1])
        assert fields["KD"]["open_counters"] == []
        devices = {d["name"]: d["health"] for d in body["devices"]}
        assert devices == {"Kiosk sảnh": "ok", "Màn hình sảnh": "bad", "Màn hình quầy 1": "never", "Đánh giá quầy 1": "never"}
        [printer] = body["printers"]
        assert (printer["health"], printer["paper"], printer["failed_recently"]) == ("bad", "out", 1)

        # Served and waits today.
        api.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers)
        api.post("/api/v1/counters/1/start", headers=demo.clerk(1).headers)
        tm.move_to(at(9, 40))
        api.post("/api/v1/counters/1/finish", headers=demo.clerk(1).headers)
        body = api.get("/manager/api/today", headers=h).get_json()
        assert {k: body["today"][k] for k in ("issued", "served", "no_show", "waiting", "wait_mean_s")} == {
            "issued": 3, "served": 1, "no_show": 0, "waiting": 2, "wait_mean_s": 1860.0,
        }
        # A per-field threshold wins over the office's: HT's oldest now waits 35 minutes.
        with db.write() as s:
            from motcua.models import Office

            office = s.scalar(select(Office))
            office.settings = {**office.settings, "field_wait_alert_minutes": {"HT": 40}}
        body = api.get("/manager/api/today", headers=h).get_json()
        assert ("long_wait", "HT") not in codes(body["alerts"]) and ("long_wait", "KD") in codes(body["alerts"])
    # Twenty minutes later the failed job is no longer "recent".
    with time_machine.travel(at(9, 50), tick=False):
        body = api.get("/manager/api/today", headers=h).get_json()
        assert "printer_failed" not in [a["code"] for a in body["alerts"]]


def test_the_page_and_its_live_connection(app, demo) -> None:
    client = app.test_client()
    login(client, demo.manager)
    page = client.get("/manager/").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="dash-config" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert config["todayUrl"].startswith("/manager/api/today")
    assert [s["code"] for s in config["data"]["services"]] == ["HT", "CT", "DD", "KD", "XH"]
    assert "socket.io.min.js" in page and "queue-client.js" in page
    # The browser connects with its session cookie: it gets the office's snapshot, then changes.
    sio = get_socketio(app).test_client(app, namespace="/display", flask_test_client=client)
    assert sio.is_connected("/display")
    snap = [m for m in sio.get_received("/display") if m["name"] == "snapshot"][0]["args"][0]
    assert [c["number"] for c in snap["counters"]] == [1, 2, 3, 4]
    app.test_client().post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk)
    from tests.support.realtime import received

    change = received(sio, "ticket.issued")[0]
    assert change["service"]["code"] == "CT" and change["service"]["waiting"] == 1
    sio.disconnect("/display")
