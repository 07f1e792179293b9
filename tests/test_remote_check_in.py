"""remote_check_in: counters skip a remote number until the kiosk checks it in (typed code or the
status page's QR), it keeps its place, and it expires `check_in_grace_minutes` after a counter
passed it (the day-time job, with a moved clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from motcua import dayend
from motcua.engine import clock
from motcua.models import Ticket, TicketEvent
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
REMOTE = REPO / "tests" / "data" / "remote.toml"


@pytest.fixture
def checked(make_app, tmp_path):
    config = tmp_path / "check_in.toml"
    config.write_text(REMOTE.read_text(encoding="utf-8").replace("remote_check_in = false", "remote_check_in = true"), encoding="utf-8")
    app, demos = make_app(config=config)
    return app, demos["demo"]


def kiosk_ticket(client, demo):
    return client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk).json


def remote_ticket(client, phone: str):
    r = client.post("/api/v1/public/tickets", json={"office": "demo", "service": "CT", "phone": phone})
    assert r.status_code == 201, r.json
    return r.json


def call(client, demo) -> str | None:
    h = demo.clerk(1).headers
    client.post("/api/v1/counters/1/finish", headers=h)
    r = client.post("/api/v1/counters/1/next", headers=h)
    ticket = r.json["ticket"]
    if ticket:
        client.post("/api/v1/counters/1/start", headers=h)
    return ticket and ticket["code"]


def test_skipped_until_checked_in_then_called_in_its_place(checked) -> None:
    app, demo = checked
    client = app.test_client()
    with time_machine.travel(MONDAY, tick=False) as clock_:
        r1 = remote_ticket(client, "0911000001")  # B001, remote, not yet here
        assert r1["awaiting_check_in"] is True and len(r1["check_in_code"]) == 6
        clock_.shift(60)
        k1 = kiosk_ticket(client, demo)  # B002
        clock_.shift(60)
        r2 = remote_ticket(client, "0911000002")  # B003
        clock_.shift(60)
        k2 = kiosk_ticket(client, demo)  # B004
        # The unchecked ones are not ahead of anyone, nor in the clerk's list.
        assert client.get(f"/api/v1/tickets/{k2['public_id']}").json["waiting_ahead"] == 1
        page = client.get(f"/t/{r1['public_id']}").get_data(as_text=True)
        assert r1["check_in_code"] in page and "Xác nhận có mặt" in page
        # The counter skips B001 and calls B002.
        clock_.shift(60)
        assert call(client, demo) == k1["code"] == "B002"
        # B001 arrives: its code typed at the kiosk (lower case and a space are fine).
        typed = r1["check_in_code"].lower()[:3] + " " + r1["check_in_code"].lower()[3:]
        r = client.post("/kiosk/api/check-in", json={"code": typed}, headers=demo.kiosk)
        assert r.status_code == 200 and r.json["ticket"]["awaiting_check_in"] is False
        # Checked in twice: the same answer. A made-up code: 404.
        assert client.post("/kiosk/api/check-in", json={"code": r1["check_in_code"]}, headers=demo.kiosk).status_code == 200
        bad = client.post("/kiosk/api/check-in", json={"code": "ZZZZZZ"}, headers=demo.kiosk)
        assert bad.status_code == 404 and bad.json["error"]["code"] == "unknown_check_in"
        # It kept its place: before B004, which came later.
        assert client.get(f"/api/v1/tickets/{r1['public_id']}").json["position"] == 1
        assert client.get(f"/api/v1/tickets/{k2['public_id']}").json["waiting_ahead"] == 1
        assert call(client, demo) == "B001"
        # B003 checks in by its status page's QR, scanned at the kiosk.
        scan = client.post("/kiosk/api/check-in", json={"scan": r2["status_url"]}, headers=demo.kiosk)
        assert scan.status_code == 200
        assert call(client, demo) == "B003"
        assert call(client, demo) == "B004"
        assert call(client, demo) is None
        # Check-in is not accepted from anyone but a kiosk.
        assert client.post("/kiosk/api/check-in", json={"code": "ABCDEF"}).status_code == 401


def test_unchecked_number_expires_after_the_grace(checked) -> None:
    app, demo = checked
    client, db = app.test_client(), app.extensions["motcua"].db
    with time_machine.travel(MONDAY, tick=False) as clock_:
        r1 = remote_ticket(client, "0911000001")
        late = remote_ticket(client, "0911000003")  # passed too, but checks in within the grace
        clock_.shift(60)
        kiosk_ticket(client, demo)
        clock_.shift(60)
        # Nobody called past it yet: no expiry however long it waits.
        assert dayend.expire_check_ins(app, clock.now() + timedelta(hours=2)) == 0
        call(client, demo)  # passes both remote numbers: their 10 minutes' grace starts now
        status = client.get(f"/api/v1/tickets/{r1['public_id']}").json
        assert status["check_in_due_at"] is not None and status["status"] == "waiting"
        clock_.shift(9 * 60)
        assert dayend.expire_check_ins(app) == 0
        assert client.post("/kiosk/api/check-in", json={"code": late["check_in_code"]}, headers=demo.kiosk).status_code == 200
        clock_.shift(61)
        assert dayend.expire_check_ins(app) == 1
        assert client.get(f"/api/v1/tickets/{r1['public_id']}").json["status"] == "cancelled"
        assert client.get(f"/api/v1/tickets/{late['public_id']}").json["status"] == "waiting"
        # Through the state machine: logged as a cancellation with its reason.
        with db.read() as s:
            t = s.scalar(select(Ticket).where(Ticket.public_id == r1["public_id"]))
            ev = s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "cancelled"))
            assert ev.reason == "check_in_expired" and ev.from_status == "waiting"
        # Too late to check in now.
        r = client.post("/kiosk/api/check-in", json={"code": r1["check_in_code"]}, headers=demo.kiosk)
        assert r.status_code == 409 and r.json["error"]["code"] == "ticket_closed"
        assert call(client, demo) == late["code"]
