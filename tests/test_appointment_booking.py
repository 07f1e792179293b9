"""Booking an appointment: POST /api/v1/public/appointments against the field's slots, its answer
and refusals, the per-phone limit, cancelling (the place is free again; refused once used), the
appointment page's data, the rate limits, and the last place of a slot booked twice at once
(threads on SQLite and on PostgreSQL): exactly one booking."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from motcua.booking.model import Appointment
from motcua.engine.remote import CODE_ALPHABET
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_7 = datetime(2026, 9, 7, 7, 0, tzinfo=HCM)
CONFIG = REPO / "tests" / "data" / "appointments.toml"
URL = "/api/v1/public/appointments"
NINE = "2026-09-07T02:00:00+00:00"  # 09:00 in Hanoi


def book(client, start: str = NINE, phone: str = "0912345678", service: str = "HT", name: str = "Nguyễn Văn An", **extra):
    return client.post(URL, json={"office": "demo", "service": service, "start": start, "name": name, "phone": phone, **extra})


def left(client, start: str = NINE, service: str = "HT") -> int:
    day = client.get("/api/v1/public/slots", query_string={"office": "demo", "service": service, "date": "2026-09-07"}).json
    return next(s["left"] for s in day["slots"] if s["start"] == start)


@pytest.fixture
def booking_app(make_app):
    app, demos = make_app(config=CONFIG)
    with time_machine.travel(MONDAY_7, tick=False):
        yield app, demos["demo"]


def test_booking_answers_and_takes_a_place(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    r = book(client, phone="+84 912 345 678")
    assert r.status_code == 201, r.json
    a = r.json
    assert set(a) == {"code", "public_id", "service", "start", "end"}
    assert len(a["code"]) == 6 and set(a["code"]) <= set(CODE_ALPHABET) and len(a["public_id"]) >= 16
    assert a["service"] == "HT" and a["start"] == NINE and a["end"] == "2026-09-07T02:15:00+00:00"
    assert left(client) == 1
    page = client.get(f"{URL}/{a['public_id']}").json
    assert page == {"code": a["code"], "public_id": a["public_id"], "office": "demo", "service": "HT", "service_name": "Hộ tịch",
                    "start": NINE, "end": a["end"], "status": "booked", "ticket": None, "phone_mask": "09xx xxx 678"}
    with app.extensions["motcua"].db.read() as s:
        row = s.scalar(select(Appointment))
        assert row.name == "Nguyễn Văn An" and row.phone_ref and "912345678" not in row.phone_ref and row.phone_mask == "09xx xxx 678"


def test_refusals_have_the_api_shape_and_codes(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    cases = [
        ({"service": "DD"}, 403, "booking_closed"),
        ({"service": "XX"}, 404, "unknown_service"),
        ({"office": "nowhere"}, 404, "unknown_office"),
        ({"start": "2026-09-07T02:05:00+00:00"}, 422, "bad_slot"),  # not a slot's start
        ({"start": "2026-09-07T00:30:00+00:00"}, 422, "bad_slot"),  # 07:30: before the bookable span
        ({"start": "2026-09-07T09:00"}, 422, "bad_slot"),  # no time zone
        ({"start": "2026-09-09T02:00:00+00:00"}, 422, "bad_slot"),  # a holiday
        ({"start": "2026-09-22T02:00:00+00:00"}, 422, "bad_slot"),  # past days_ahead
        ({"phone": "12345"}, 422, "bad_phone"),
        ({"name": "   "}, 422, "invalid_body"),
    ]
    for change, status, code in cases:
        body = {"office": "demo", "service": "HT", "start": NINE, "name": "An", "phone": "0912000001", **change}
        r = client.post(URL, json=body)
        assert r.status_code == status and r.json["error"]["code"] == code, (change, r.json)
        assert r.json["error"]["message"] and r.json["error"]["message_en"]
    assert client.post(URL, json={"office": "demo", "service": "HT", "start": NINE, "phone": "0912000001"}).status_code == 422
    with time_machine.travel(datetime(2026, 9, 7, 8, 1, tzinfo=HCM), tick=False):
        r = book(client)  # 09:00 closes at 08:00 (close_minutes_before = 60)
        assert r.status_code == 422 and r.json["error"]["code"] == "bad_slot"
    with app.extensions["motcua"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0


def test_full_slot_and_per_phone_limit(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    assert book(client, phone="0911000001").status_code == 201
    assert book(client, phone="0911000002").status_code == 201
    r = book(client, phone="0911000003")
    assert r.status_code == 409 and r.json["error"]["code"] == "slot_full" and left(client) == 0
    # One open booking per phone, field and day: another slot the same day is refused...
    r = book(client, "2026-09-07T03:00:00+00:00", phone="0911 000 001")
    assert r.status_code == 409 and r.json["error"]["code"] == "booking_limit"
    # ... another field or another day is not.
    assert book(client, "2026-09-07T02:00:00+00:00", phone="0911000001", service="CT").status_code == 201
    assert book(client, "2026-09-08T02:00:00+00:00", phone="0911000001").status_code == 201


def test_cancel_frees_the_place_and_is_refused_once_used(booking_app) -> None:
    app, demo = booking_app
    client = app.test_client()
    first = book(client, phone="0911000001").json
    book(client, phone="0911000002")
    assert left(client) == 0
    r = client.post(f"{URL}/{first['code'].lower()}/cancel")  # typed in lower case
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert left(client) == 1
    assert client.post(f"{URL}/{first['public_id']}/cancel").json["status"] == "cancelled"  # again: the same answer
    # The phone may book again once its booking is cancelled.
    third = book(client, "2026-09-07T03:00:00+00:00", phone="0911000001").json
    # Checked in: the booking is used and cannot be cancelled.
    with time_machine.travel(datetime(2026, 9, 7, 9, 50, tzinfo=HCM), tick=False):
        assert client.post("/api/v1/tickets", json={"appointment": third["code"]}, headers=demo.kiosk).status_code == 201
        r = client.post(f"{URL}/{third['code']}/cancel")
        assert r.status_code == 409 and r.json["error"]["code"] == "appointment_used"
    r = client.post(f"{URL}/ZZZZZZ/cancel")
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_appointment"
    assert client.get(f"{URL}/{'x' * 22}").json["error"]["code"] == "unknown_appointment"


def _race(app, phones: list[str]) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(phones))

    def worker(phone: str) -> None:
        client = app.test_client()
        barrier.wait()
        r = book(client, phone=phone)
        with lock:
            statuses.append(r.status_code)
            if r.status_code != 201:
                assert r.json["error"]["code"] == "slot_full", r.json

    pool = [threading.Thread(target=worker, args=(p,)) for p in phones]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return statuses


def _assert_last_place_once(app) -> None:
    client = app.test_client()
    assert book(client, phone="0919999999").status_code == 201  # one of two places gone
    for round_ in range(3):  # the last place, twice at once: one booking; a cancel frees it for the next round
        statuses = _race(app, [f"09120000{round_}{i}" for i in range(2)])
        assert sorted(statuses) == [201, 409], statuses
        with app.extensions["motcua"].db.read() as s:
            held = s.scalars(select(Appointment).where(Appointment.status != "cancelled")).all()
        assert len(held) == 2
        last = next(a for a in held if a.phone_mask != "09xx xxx 999")
        assert client.post(f"{URL}/{last.public_id}/cancel").status_code == 200


def test_last_place_booked_twice_at_once_on_sqlite(booking_app) -> None:
    app, _ = booking_app
    _assert_last_place_once(app)


def test_last_place_booked_twice_at_once_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(config=CONFIG, database_url=pg_url)
    with time_machine.travel(MONDAY_7, tick=False):
        _assert_last_place_once(app)


def test_one_phone_from_threads_gets_one_booking_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(config=CONFIG, database_url=pg_url)
    statuses: list[int] = []
    barrier = threading.Barrier(3)

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(book(client, f"2026-09-07T0{1 + i}:30:00+00:00", phone="0987654321").status_code)  # 08:30 ... 11:30 in Hanoi

    with time_machine.travel(MONDAY_7, tick=False):
        pool = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    assert sorted(statuses) == [201, 409, 409]


def test_rate_limits_per_address_and_per_phone(make_app, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_BOOKING_LIMIT_PHONE", "2/hour")
    monkeypatch.setenv("MOTCUA_BOOKING_LIMIT_ADDRESS", "4/hour")
    app, _ = make_app(config=CONFIG)
    client = app.test_client()
    with time_machine.travel(MONDAY_7, tick=True):
        assert book(client, phone="0911111111").status_code == 201
        assert book(client, "2026-09-07T03:00:00+00:00", phone="0911 111 111").status_code == 409  # the per-phone limit
        r = book(client, "2026-09-07T04:00:00+00:00", phone="+84911111111")
        assert r.status_code == 429 and r.json["error"]["code"] == "too_many_requests"
        assert book(client, phone="0922222222").status_code == 201
        r = client.post(f"{URL}/ZZZZZZ/cancel")
        assert r.status_code == 404  # the address's fourth request
        r = book(client, "2026-09-07T03:00:00+00:00", phone="0933333333")
        assert r.status_code == 429 and r.json["error"]["code"] == "too_many_requests"


LIVE_CONFIG = """
[[offices]]
code = "demo"
name = "Trung tâm thử"
timezone = "Asia/Ho_Chi_Minh"

[[offices.fields]]
code = "HT"
name = "Hộ tịch"
prefix = "A"
booking = { spans = ["08:00-11:00"], slot_minutes = 15, per_slot = 1, days_ahead = 14, close_minutes_before = 0 }

[[offices.counters]]
number = 1
fields = { HT = 1 }
"""


def test_two_server_processes_on_postgresql_give_the_last_place_once(pg_url: str, live_server_factory, tmp_path) -> None:
    """Two `motcua serve` processes on one PostgreSQL database, each asked for the last place of
    a slot at the same moment, round after round: one booking a round."""
    import requests

    config = tmp_path / "live.toml"
    config.write_text(LIVE_CONFIG, encoding="utf-8")
    first = live_server_factory(config=config, database_url=pg_url)
    second = live_server_factory(config=config, database_url=pg_url, populate_db=False)
    tomorrow = datetime.combine(datetime.now(HCM).date() + timedelta(days=1), datetime.min.time(), tzinfo=HCM).replace(hour=8)

    def worker(url: str, phone: str, start: str, barrier: threading.Barrier, answers: list) -> None:
        barrier.wait()
        answers.append(requests.post(url + URL, json={"office": "demo", "service": "HT", "start": start, "name": "An", "phone": phone},
                                     timeout=20))

    for round_ in range(6):
        start = (tomorrow + timedelta(minutes=15 * round_)).astimezone(ZoneInfo("UTC")).isoformat()
        barrier = threading.Barrier(2)
        answers: list[requests.Response] = []
        pool = [threading.Thread(target=worker, args=(s.url, f"09130000{round_}{i}", start, barrier, answers))
                for i, s in enumerate((first, second))]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        assert next(r for r in answers if r.status_code == 409).json()["error"]["code"] == "slot_full"
        left = requests.get(first.url + "/api/v1/public/slots", params={"office": "demo", "service": "HT", "date": tomorrow.date().isoformat()},
                            timeout=10).json()
        assert next(s for s in left["slots"] if s["start"] == start)["left"] == 0
