"""Appointments through the office's gateway: "booked" at booking, one "reminder" `reminder_minutes`
before the slot (none for a booking made inside that lead, none for a cancelled one), the phone
handed to the ticket at check-in for "called", and no sealed phone left after the day end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from motcua import dayend, notify
from motcua.booking.model import Appointment
from motcua.engine import clock
from motcua.models import Office, Ticket
from motcua.notify import appointments
from tests.support.env import REPO
from tests.support.gateway import notify_config, start_gateway

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
APPOINTMENTS = REPO / "tests" / "data" / "appointments.toml"
URL = "/api/v1/public/appointments"


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=HCM)


@pytest.fixture
def gateway():
    gw = start_gateway()
    yield gw
    gw.close()


def book(client, hour: int, minute: int, phone: str, when: datetime) -> dict:
    with time_machine.travel(when, tick=False):
        r = client.post(URL, json={"office": "demo", "service": "HT", "start": at(hour, minute).isoformat(), "name": "Lê Thị Hoa",
                                   "phone": phone})
    assert r.status_code == 201, r.json
    return r.json


def test_booked_reminder_and_called_reach_the_gateway_once_each(make_app, gateway, tmp_path) -> None:
    base = tmp_path / "two_hours.toml"  # reminders two hours ahead (bookings close an hour before the slot)
    base.write_text(APPOINTMENTS.read_text(encoding="utf-8").replace("booking_per_phone = 1", "booking_per_phone = 1\nreminder_minutes = 120", 1),
                    encoding="utf-8")
    app, demos = make_app(config=notify_config(tmp_path, gateway.url, base=base))
    demo, client, db = demos["demo"], app.test_client(), app.extensions["motcua"].db
    kept = book(client, 9, 0, "0912345678", at(6, 0))
    dropped = book(client, 9, 15, "0912000111", at(6, 0))
    late = book(client, 9, 30, "0912000222", at(7, 45))  # inside the two hours before its slot: no reminder
    with time_machine.travel(at(7, 46), tick=False):
        assert client.post(f"{URL}/{dropped['code']}/cancel?office=demo").status_code == 200
        out = notify.run_once(app)
    assert (out.sent, out.dropped) == (2, 1)  # "booked" for the kept and the late one; the cancelled one's dropped
    assert sorted((r.body["event"], r.body["ticket"]["code"]) for r in gateway.accepted) == sorted([("booked", kept["code"]), ("booked", late["code"])])
    first = next(r.body for r in gateway.accepted if r.body["ticket"]["code"] == kept["code"])
    assert first["phone"] == "0912345678" and first["slot"] == "2026-09-07T02:00:00+00:00" and first["office"] == "demo"

    assert appointments.remind_due(app, at(6, 59)) == 0  # more than two hours ahead
    assert appointments.remind_due(app, at(7, 50)) == 1  # the kept one only
    assert appointments.remind_due(app, at(7, 55)) == 0  # once
    with time_machine.travel(at(7, 55), tick=False):
        notify.run_once(app)
    reminders = [r.body for r in gateway.accepted if r.body["event"] == "reminder"]
    assert [(b["ticket"]["code"], b["phone"]) for b in reminders] == [(kept["code"], "0912345678")]

    # Checked in: the ticket takes the phone over, the booking keeps none; "called" follows.
    with time_machine.travel(at(8, 58), tick=False):
        r = client.post("/api/v1/tickets", json={"appointment": kept["code"]}, headers=demo.kiosk)
        assert r.status_code == 201, r.json
        call = client.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers)
        assert call.json["ticket"]["code"] == r.json["code"]
        notify.run_once(app)
    called = [x.body for x in gateway.accepted if x.body["event"] == "called"]
    assert [(b["ticket"]["code"], b["ticket"]["counter"], b["phone"]) for b in called] == [(r.json["code"], 1, "0912345678")]
    with db.read() as s:
        assert s.scalar(select(Appointment.phone_sealed).where(Appointment.code == kept["code"])) is None
        assert s.scalar(select(Ticket.phone_sealed).where(Ticket.code == r.json["code"])) is not None
        assert s.scalar(select(Appointment.phone_sealed).where(Appointment.code == late["code"])) is not None
        office_id = s.scalar(select(Office.id))
    with time_machine.travel(at(0, 30, day=8), tick=False):
        assert dayend.close_day(db, office_id, clock.now()) is not None
    with db.read() as s:
        assert s.scalars(select(Appointment.phone_sealed)).all() == [None] * 3
        assert all(v is None for v in s.scalars(select(Ticket.phone_sealed)))
        assert all(v is None for v in s.scalars(select(notify.Notification.phone_sealed)))
    assert len(gateway.accepted) == 4 and all(x.signature_ok for x in gateway.received)


def test_an_office_without_a_gateway_keeps_no_phone_for_a_booking(make_app) -> None:
    app, _ = make_app(config=APPOINTMENTS)
    book(app.test_client(), 9, 0, "0912345678", at(7, 0))
    with app.extensions["motcua"].db.read() as s:
        a = s.scalar(select(Appointment))
        assert a.phone_mask == "09xx xxx 678" and a.phone_sealed is None
    assert appointments.remind_due(app, at(8, 30)) == 0
