"""Checking an appointment in at the kiosk: POST /api/v1/tickets {appointment} (typed code or the
page's QR) and the kiosk's check-in scan, the window (early, in it, late), the refusals, the walk-in
quota that does not apply, what screens and the clerk see, and the day end's no-shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from motcua import dayend
from motcua.booking.model import Appointment
from motcua.engine import clock
from motcua.models import Office, Ticket
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = REPO / "tests" / "data" / "appointments.toml"
URL = "/api/v1/public/appointments"


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=HCM)


def slot(hour: int, minute: int = 0, day: int = 7) -> str:
    return at(hour, minute, day).astimezone(ZoneInfo("UTC")).isoformat()


@pytest.fixture
def setup(make_app):
    app, demos = make_app(config=CONFIG)
    return app, demos["demo"], app.test_client()


def book(client, start: str, phone: str, name: str = "Lê Thị Hoa", service: str = "HT") -> dict:
    with time_machine.travel(at(7, 0), tick=False):
        r = client.post(URL, json={"office": "demo", "service": service, "start": start, "name": name, "phone": phone})
    assert r.status_code == 201, r.json
    return r.json


def arrive(client, demo, text: str, **extra):
    return client.post("/api/v1/tickets", json={"appointment": text, **extra}, headers=demo.kiosk)


@pytest.mark.parametrize(("when", "arrival", "opens"), [
    (at(8, 30), "early", at(8, 45)),  # before the window [08:45, 09:10]: a walk-in until 08:45
    (at(8, 45), "in_window", at(8, 45)),
    (at(9, 10), "in_window", at(8, 45)),
    (at(9, 11), "late", None),  # after it: a walk-in
])
def test_the_window_decides_the_class(setup, when: datetime, arrival: str, opens: datetime | None) -> None:
    app, demo, client = setup
    a = book(client, slot(9), "0911000001")
    with time_machine.travel(when, tick=False):
        r = arrive(client, demo, a["code"])
    assert r.status_code == 201, r.json
    t = r.json
    assert t["source"] == "appointment" and t["code"] == "A001" and t["status_url"].endswith(t["public_id"])
    assert t["appointment"] == {"start": a["start"], "end": a["end"], "arrival": arrival, "code": a["code"]}
    with app.extensions["motcua"].db.read() as s:
        ticket = s.scalar(select(Ticket))
        booking = s.scalar(select(Appointment))
        assert ticket.appointment_from == (opens.timestamp() if opens else None) and ticket.appointment_id == booking.id
        assert booking.status == "checked_in" and booking.ticket_id == ticket.id and booking.arrival == arrival
    page = client.get(f"{URL}/{a['public_id']}").json
    assert page["status"] == "checked_in" and page["ticket"] == {"public_id": t["public_id"], "code": "A001"}


def test_refusals(setup) -> None:
    app, demo, client = setup
    tomorrow = book(client, slot(9, day=8), "0911000001")
    cancelled = book(client, slot(9), "0911000002")
    used = book(client, slot(9, 15), "0911000003")
    client.post(f"{URL}/{cancelled['code']}/cancel")
    with time_machine.travel(at(9), tick=False):
        assert arrive(client, demo, used["code"]).status_code == 201
        for text, status, code in [
            (tomorrow["code"], 409, "appointment_not_today"),
            (cancelled["code"], 409, "appointment_cancelled"),
            (used["code"], 409, "appointment_used"),
            ("ZZZZZZ", 404, "unknown_appointment"),
            ("ABC", 404, "unknown_appointment"),
            ("https://motcua.example/a/" + "x" * 22, 404, "unknown_appointment"),
        ]:
            r = arrive(client, demo, text)
            assert r.status_code == status and r.json["error"]["code"] == code, (text, r.json)
            assert r.json["error"]["message"] and r.json["error"]["message_en"]
        assert "08/09/2026" in arrive(client, demo, tomorrow["code"]).json["error"]["message"]
        # The appointment goes alone: no field, card or priority with it.
        r = client.post("/api/v1/tickets", json={"appointment": tomorrow["code"], "service": "HT"}, headers=demo.kiosk)
        assert r.status_code == 422
    with app.extensions["motcua"].db.read() as s:
        assert len(s.scalars(select(Ticket)).all()) == 1


def test_the_walk_in_quota_does_not_refuse_an_appointment_and_a_retry_is_answered_alike(setup) -> None:
    app, demo, client = setup
    a = book(client, slot(9), "0911000001")
    with time_machine.travel(at(8, 50), tick=False):
        for _ in range(5):  # HT's daily quota
            assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).status_code == 201
        assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).json["error"]["code"] == "quota_reached"
        first = arrive(client, demo, a["code"], idempotency_key="kiosk-retry-0001")
        assert first.status_code == 201 and first.json["code"] == "A006" and first.json["waiting_ahead"] == 0
        again = arrive(client, demo, a["code"], idempotency_key="kiosk-retry-0001")
        assert again.status_code == 200 and again.json["public_id"] == first.json["public_id"]


def test_the_kiosk_scan_and_typed_code(setup) -> None:
    _, demo, client = setup
    scanned = book(client, slot(9), "0911000001")
    typed = book(client, slot(9, 15), "0911000002")
    with time_machine.travel(at(8, 55), tick=False):
        r = client.post("/kiosk/api/check-in", json={"scan": f"http://10.0.0.5:8000/a/{scanned['public_id']}"}, headers=demo.kiosk)
        assert r.status_code == 201, r.json
        assert r.json["ticket"]["source"] == "appointment" and r.json["appointment"]["arrival"] == "in_window"
        assert r.json["ticket"]["appointment"] == {"start": scanned["start"], "end": scanned["end"], "code": scanned["code"]}
        r = client.post("/kiosk/api/check-in", json={"code": typed["code"].lower()}, headers=demo.kiosk)
        assert r.status_code == 201 and r.json["ticket"]["code"] == "A002" and r.json["appointment"]["arrival"] == "early"
        r = client.post("/kiosk/api/check-in", json={"code": "ZZZZZZ"}, headers=demo.kiosk)
        assert r.status_code == 404 and r.json["error"]["code"] == "unknown_check_in"
        r = client.post("/kiosk/api/check-in", json={"scan": f"http://10.0.0.5:8000/a/{scanned['public_id']}"}, headers=demo.kiosk)
        assert r.status_code == 409 and r.json["error"]["code"] == "appointment_used"


def test_screens_see_the_slot_and_only_the_clerk_the_name(setup) -> None:
    app, demo, client = setup
    a = book(client, slot(9), "0911000001", name="Phạm Minh Tuấn")
    with time_machine.travel(at(8, 50), tick=False):
        walk_in = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).json
        assert walk_in["appointment"] is None
        t = arrive(client, demo, a["code"]).json
        status = client.get(f"/api/v1/tickets/{t['public_id']}").json
        assert status["source"] == "appointment" and status["position"] == 1 and status["waiting_ahead"] == 0
        assert status["appointment"] == {"start": a["start"], "end": a["end"], "code": a["code"]}
        h = demo.clerk(2).headers
        waiting = client.get("/counter/api/2/waiting", headers=h).json
        listed = waiting["services"][0]["tickets"]
        assert [x["code"] for x in listed] == ["A002", "A001"]  # the appointment before the walk-in who came first
        assert listed[0]["booked_name"] == "Phạm Minh Tuấn" and listed[0]["appointment"] is True and listed[1]["booked_name"] is None
        call = client.post("/api/v1/counters/2/next", headers=h).json
        assert call["ticket"]["code"] == "A002" and call["ticket"]["appointment"] == {"start": a["start"], "end": a["end"]}
        assert "Phạm Minh Tuấn" not in str(call)
        assert client.get("/counter/api/2/waiting", headers=h).json["current_booked_name"] == "Phạm Minh Tuấn"
        snapshot = client.get("/api/v1/queue", headers=demo.clerk(1).headers)
        assert snapshot.status_code == 200 and "Phạm Minh Tuấn" not in snapshot.get_data(as_text=True)


def test_day_end_marks_the_absent_no_show(setup) -> None:
    app, demo, client = setup
    came = book(client, slot(9), "0911000001")
    absent = book(client, slot(9, 15), "0911000002")
    later = book(client, slot(9, day=8), "0911000003")
    with time_machine.travel(at(9), tick=False):
        arrive(client, demo, came["code"])
    db = app.extensions["motcua"].db
    with db.read() as s:
        office_id = s.scalar(select(Office.id))
    with time_machine.travel(at(0, 5, day=8), tick=False):
        dayend.close_day(db, office_id, clock.now())
    states = {x: client.get(f"{URL}/{b['public_id']}").json["status"] for x, b in (("came", came), ("absent", absent), ("later", later))}
    assert states == {"came": "checked_in", "absent": "no_show", "later": "booked"}
    with time_machine.travel(at(0, 5, day=8) + timedelta(days=1), tick=False):
        dayend.close_day(db, office_id, clock.now())
    assert client.get(f"{URL}/{later['public_id']}").json["status"] == "no_show"


def test_a_transferred_appointment_joins_the_other_field_as_the_transfer_says(setup) -> None:
    app, demo, client = setup
    a = book(client, slot(9), "0911000001")
    h = demo.clerk(1).headers
    with time_machine.travel(at(8, 50), tick=False):
        ct_walk_in = client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk).json
        t = arrive(client, demo, a["code"]).json
        assert client.post("/api/v1/counters/1/next", headers=h).json["ticket"]["code"] == t["code"]  # HT's open appointment first
        assert client.post("/api/v1/counters/1/transfer", json={"service": "CT", "position": "back"}, headers=h).status_code == 200
        # In CT it is no longer in the appointment class: the walk-in who was there first goes first.
        assert client.post("/api/v1/counters/1/next", headers=h).json["ticket"]["code"] == ct_walk_in["code"]
    with app.extensions["motcua"].db.read() as s:
        assert s.scalar(select(Ticket.appointment_from).where(Ticket.code == t["code"])) is None
