"""A field's appointment booking on the manager's field form (/manager/config/fields/<id>): shown as
saved, changed and audited, used at once by the slots and the booking page, refused with
config.toml's rules under its own inputs."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from motcua.models import AuditLog, Office, Service
from tests.support.forms import FIELD_HT, manager_client, one, post

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 7, 0, tzinfo=HCM)


def booking(app) -> dict:
    return (one(app, Office, code="demo").settings or {}).get("booking_fields") or {}


def slots(client, day: str = "2026-09-08") -> list[dict]:
    with time_machine.travel(MONDAY, tick=False):
        r = client.get(f"/api/v1/public/slots?office=demo&service=HT&date={day}")
    assert r.status_code == 200, r.json
    return r.json["slots"]


def test_the_form_shows_and_changes_a_fields_booking(app, demo) -> None:
    client = manager_client(app, demo)
    ht = one(app, Service, code="HT")
    url = f"/manager/config/fields/{ht.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Nhận đặt lịch hẹn" in page and "08:00-11:00, 14:00-16:00" in page
    assert re.search(r'<input checked id="booking_enabled"', page)
    before = booking(app)["HT"]

    # One day's hours apart (Tuesday), slots of 20 minutes, places from the counters.
    r = post(client, url, {**FIELD_HT, "booking_spans": "tue: 13:30-15:00", "booking_slot_minutes": "20", "booking_per_slot": ""})
    assert r.status_code == 302, r.get_data(as_text=True)
    after = booking(app)["HT"]
    assert after["spans"] == {"tue": ["13:30-15:00"]} and after["slot_minutes"] == 20 and after["per_slot"] is None
    assert after["share"] == before["share"] == 50
    row = one(app, AuditLog, entity="service")
    assert row.changes["booking"][0] == before and row.changes["booking"][1]["spans"] == {"tue": ["13:30-15:00"]}
    starts = [s["start"] for s in slots(app.test_client())]
    assert starts[0].startswith("2026-09-08T06:30") and len(starts) == 4  # 13:30, 13:50, 14:10, 14:30 local
    assert "tue: 13:30-15:00" in client.get(url).get_data(as_text=True)

    # Not bookable any more: gone from the booking page.
    off = {k: v for k, v in FIELD_HT.items() if k != "booking_enabled"}
    assert post(client, url, off).status_code == 302
    assert "HT" not in booking(app)
    with time_machine.travel(MONDAY, tick=False):
        cfg_page = app.test_client().get("/q/demo/book").get_data(as_text=True)
    assert '"code": "HT"' not in cfg_page


def test_bad_booking_input_is_refused_under_its_input(app, demo) -> None:
    client = manager_client(app, demo)
    ht = one(app, Service, code="HT")
    url = f"/manager/config/fields/{ht.id}"
    for name, value in (("booking_spans", "8 giờ đến 11 giờ"), ("booking_spans", "sat: 11:00-10:00"), ("booking_spans", ""),
                        ("booking_slot_minutes", "300"), ("booking_days_ahead", "-1"), ("booking_per_slot", "0"),
                        ("booking_share", "0"), ("booking_share", "101"),
                        ("booking_spans", "08:00-08:10")):  # shorter than one slot of 15 minutes
        r = post(client, url, {**FIELD_HT, name: value})
        assert r.status_code == 422, (name, value, r.status_code)
        assert f'id="{name}-error"' in r.get_data(as_text=True), (name, value)
    assert booking(app)["HT"]["spans"] == ["08:00-11:00", "14:00-16:00"]
    assert one(app, AuditLog, entity="service") is None


def test_a_new_field_can_be_bookable(app, demo) -> None:
    client = manager_client(app, demo)
    r = post(client, "/manager/config/fields/new", {
        "code": "TP", "name": "Tư pháp", "prefix": "T", "start": "1", "digits": "3", "service_minutes": "10", "sort_order": "5", "active": "y",
        "booking_enabled": "y", "booking_spans": "mon: 08:00-09:00\nwed: 08:00-09:00", "booking_slot_minutes": "30",
        "booking_days_ahead": "7", "booking_close_minutes_before": "30",
    })
    assert r.status_code == 302, r.get_data(as_text=True)
    tp = booking(app)["TP"]
    assert tp["spans"] == {"mon": ["08:00-09:00"], "wed": ["08:00-09:00"]} and tp["days_ahead"] == 7 and tp["close_minutes_before"] == 30
    assert "HT" in booking(app)


def test_the_bookable_share_sets_the_places_when_per_slot_is_empty(app, demo) -> None:
    """HT has one counter's time (2/3 of counter 1's, 1/3 of counter 2's); an hour's slot at 8
    minutes a citizen is 7.5 citizens, of which the share is bookable (BookingConfig.share)."""
    client = manager_client(app, demo)
    url = f"/manager/config/fields/{one(app, Service, code='HT').id}"
    assert re.search(r'id="booking_share"[^>]* value="50"', client.get(url).get_data(as_text=True))
    hourly = {**FIELD_HT, "booking_spans": "08:00-11:00", "booking_slot_minutes": "60", "booking_per_slot": ""}
    for share, places in (("100", 7), ("50", 3), ("20", 1)):
        r = post(client, url, {**hourly, "booking_share": share})
        assert r.status_code == 302, r.get_data(as_text=True)
        assert booking(app)["HT"]["share"] == int(share)
        assert {s["left"] for s in slots(app.test_client())} == {places}, share
    assert re.search(r'id="booking_share"[^>]* value="20"', client.get(url).get_data(as_text=True))
    assert one(app, AuditLog, entity="service").changes["booking"][1]["share"] == 100
    # A per_slot given wins over the share.
    assert post(client, url, {**hourly, "booking_per_slot": "4", "booking_share": "100"}).status_code == 302
    assert {s["left"] for s in slots(app.test_client())} == {4}
