"""The citizen's appointment pages through Flask's test client: /q/<office>/book lists the bookable
fields only, and /a/<public_id> shows the code to type, the QR of its own address, cancelling,
and once checked in the way to the ticket; never the booked name; Vietnamese first, English too."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kiosk import qr
from printers.spooler import ticket_content
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = REPO / "tests" / "data" / "appointments.toml"
MONDAY_7 = datetime(2026, 9, 7, 7, 0, tzinfo=HCM)
SLOT_9 = datetime(2026, 9, 7, 9, 0, tzinfo=HCM).astimezone(ZoneInfo("UTC")).isoformat()
NAME = "Nguyễn Thị Bích Ngọc"


def config_of(html: str, blob: str) -> dict:
    return json.loads(re.search(rf'<script type="application/json" id="{blob}">(.*?)</script>', html, re.S).group(1))


@pytest.fixture
def booked(make_app):
    app, demos = make_app(config=CONFIG)
    client = app.test_client()
    with time_machine.travel(MONDAY_7, tick=False):
        r = client.post("/api/v1/public/appointments", json={"office": "demo", "service": "HT", "start": SLOT_9, "name": NAME, "phone": "0912345678"})
    assert r.status_code == 201, r.json
    return app, demos["demo"], client, r.json


def test_the_booking_page_offers_the_bookable_fields(make_app) -> None:
    app, _ = make_app(config=CONFIG)
    client = app.test_client()
    with time_machine.travel(MONDAY_7, tick=False):
        office = client.get("/q/demo").get_data(as_text=True)
        assert 'href="/q/demo/book"' in office and "Đặt lịch hẹn trước" in office
        page = client.get("/q/demo/book")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    cfg = config_of(html, "book-config")
    assert [f["code"] for f in cfg["fields"]] == ["HT", "CT"]  # DD takes no bookings
    assert cfg["today"] == "2026-09-07" and cfg["fields"][0]["days_ahead"] == 14
    assert cfg["urls"] == {"slots": "/api/v1/public/slots", "book": "/api/v1/public/appointments", "page": "/a/__ID__"}
    assert 'value="DD"' not in html and "Họ và tên" in html and "Đặt lịch" in html
    en = client.get("/q/demo/book?lang=en").get_data(as_text=True)
    assert "Book an appointment" in en and "Full name" in en and config_of(en, "book-config")["strings"]["full"] == "full"
    assert client.get("/q/nowhere/book").status_code == 404


def test_an_office_without_bookable_fields_says_so(make_app) -> None:
    app, _ = make_app(config=REPO / "tests" / "data" / "remote.toml")
    client = app.test_client()
    assert "/book" not in client.get("/q/demo").get_data(as_text=True)
    html = client.get("/q/demo/book").get_data(as_text=True)
    assert "Đơn vị này chưa nhận đặt lịch hẹn" in html and 'id="book"' not in html


def test_the_appointment_page_until_check_in(booked) -> None:
    app, demo, client, a = booked
    with time_machine.travel(MONDAY_7, tick=False):
        page = client.get(f"/a/{a['public_id']}?new=1")
    assert page.status_code == 200 and page.headers["X-Robots-Tag"] == "noindex"
    html = page.get_data(as_text=True)
    assert f'<div class="ap-code" id="code">{a["code"]}</div>' in html
    assert "Thứ Hai, 07/09/2026" in html and "09:00–09:15" in html and "Đã đặt lịch hẹn." in html
    assert f'src="/a/{a["public_id"]}/qr.svg"' in html and "Huỷ lịch hẹn" in html and 'id="notify-slot"' in html
    assert NAME not in html and "0912345678" not in html  # whoever holds the link sees neither
    assert '<span id="phone-mask">09xx xxx 678</span>' in html
    cfg = config_of(html, "appointment-config")
    assert cfg["urls"]["cancel"] == f"/api/v1/public/appointments/{a['public_id']}/cancel"
    en = client.get(f"/a/{a['public_id']}?lang=en").get_data(as_text=True)
    assert "Appointment code" in en and "Monday, 07/09/2026" in en and "Cancel the appointment" in en

    # The QR names the page's own address, which the kiosk's scanner reads to check in.
    svg = client.get(f"/a/{a['public_id']}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.data == qr.svg(f"http://localhost/a/{a['public_id']}")
    assert client.get("/a/not-a-real-id").status_code == 404
    assert client.get("/a/" + "x" * 22).status_code == 404

    # Checked in at the kiosk: the page leads to the ticket and cannot cancel any more.
    with time_machine.travel(datetime(2026, 9, 7, 8, 50, tzinfo=HCM), tick=False):
        r = client.post("/api/v1/tickets", json={"appointment": a["code"]}, headers=demo.kiosk)
        assert r.status_code == 201, r.json
        html = client.get(f"/a/{a['public_id']}?lang=vi").get_data(as_text=True)
    assert "Đã xác nhận có mặt" in html and f'href="/t/{r.json["public_id"]}"' in html and "Huỷ lịch hẹn" not in html
    assert f"Xem số thứ tự {r.json['code']} của bạn" in html

    # The printed ticket says when the appointment was booked for.
    from motcua.models import Office, Ticket

    with app.extensions["motcua"].db.read() as s:
        t = s.query(Ticket).filter_by(public_id=r.json["public_id"]).one()
        content = ticket_content(t, s.get(Office, t.office_id), "http://localhost/t/x")
    assert content.appointment_label == "Lịch hẹn 09:00"


def test_a_cancelled_appointment_says_so(booked) -> None:
    _app, _demo, client, a = booked
    with time_machine.travel(MONDAY_7, tick=False):
        assert client.post(f"/api/v1/public/appointments/{a['public_id']}/cancel").status_code == 200
        html = client.get(f"/a/{a['public_id']}").get_data(as_text=True)
    assert "Lịch hẹn đã hủy" in html and "Huỷ lịch hẹn" not in html and 'id="check-in"' not in html
