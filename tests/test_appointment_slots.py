"""A bookable field's slots: its spans cut into slots in the office's time zone, nothing on a
holiday, a closed day, a past day or past `days_ahead`, no slot `close_minutes_before` its
start, places from `per_slot` or from the counters serving the field; and config errors that
name the key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from motcua.booking.settings import FieldBooking
from motcua.config import ConfigError, load_config
from tests.support.env import DEMO_CONFIG, REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_7 = datetime(2026, 9, 7, 7, 0, tzinfo=HCM)
CONFIG = REPO / "tests" / "data" / "appointments.toml"


@pytest.fixture
def booking_app(make_app):
    app, demos = make_app(config=CONFIG)
    return app, demos["demo"]


def slots(client, service: str = "HT", day: str | None = "2026-09-07") -> dict:
    r = client.get("/api/v1/public/slots", query_string={"office": "demo", "service": service, **({"date": day} if day else {})})
    assert r.status_code == 200, r.json
    return r.json


def local_times(answer: dict) -> list[str]:
    return [datetime.fromisoformat(s["start"]).astimezone(HCM).strftime("%H:%M") for s in answer["slots"]]


def test_spans_cut_into_slots_in_the_office_time_zone(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    with time_machine.travel(MONDAY_7, tick=False):
        day = slots(client)
        assert day["closed_reason"] is None and day["per_slot"] == 2 and day["date"] == "2026-09-07"
        times = local_times(day)
        assert times[:3] == ["08:00", "08:15", "08:30"] and times[11] == "10:45" and times[12] == "14:00" and times[-1] == "15:45"
        assert len(times) == 12 + 8 and all(s["left"] == 2 for s in day["slots"])
        first = day["slots"][0]
        assert first["start"] == "2026-09-07T01:00:00+00:00" and first["end"] == "2026-09-07T01:15:00+00:00"
        assert slots(client, day=None)["date"] == "2026-09-07"  # no date: the office's today


def test_no_slot_closer_than_close_minutes_before(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    with time_machine.travel(datetime(2026, 9, 7, 8, 31, tzinfo=HCM), tick=False):
        times = local_times(slots(client))
    # 08:31 + 60 minutes: the first slot offered starts at 09:45.
    assert times[0] == "09:45" and "09:30" not in times and len(times) == 5 + 8


@pytest.mark.parametrize(("day", "reason"), [
    ("2026-09-09", "holiday"),  # a Wednesday in the office's holidays
    ("2026-09-13", "closed_day"),  # Sunday: the office does not work
    ("2026-09-06", "past_day"),
    ("2026-09-22", "too_far"),  # 15 days ahead, 14 allowed
])
def test_days_that_offer_nothing(booking_app, day: str, reason: str) -> None:
    app, _ = booking_app
    with time_machine.travel(MONDAY_7, tick=False):
        answer = slots(app.test_client(), day=day)
    assert answer["slots"] == [] and answer["closed_reason"]["code"] == reason
    assert answer["closed_reason"]["message"] and answer["closed_reason"]["message_en"]


def test_last_day_ahead_and_weekday_spans(booking_app) -> None:
    app, _ = booking_app
    client = app.test_client()
    with time_machine.travel(MONDAY_7, tick=False):
        assert len(slots(client, day="2026-09-21")["slots"]) == 20  # today + 14
        assert local_times(slots(client, day="2026-09-12")) == ["08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30", "09:45",
                                                             "10:00", "10:15", "10:30", "10:45"]  # Saturday works mornings: the list is every working day's
        ct_monday = slots(client, "CT")
        assert local_times(ct_monday) == ["09:00", "09:20", "09:40"]
        assert slots(client, "CT", "2026-09-08")["closed_reason"]["code"] == "closed_day"  # CT books on Mondays and Saturdays only
        assert local_times(slots(client, "CT", "2026-09-12")) == ["08:00", "08:20", "08:40"]
        dd = slots(client, "DD")
        assert dd["slots"] == [] and dd["closed_reason"]["code"] == "booking_closed"
        bad = client.get("/api/v1/public/slots", query_string={"office": "demo", "service": "HT", "date": "07/09/2026"})
        assert bad.status_code == 422 and bad.json["error"]["code"] == "bad_date"
        assert client.get("/api/v1/public/slots", query_string={"office": "nowhere", "service": "HT"}).json["error"]["code"] == "unknown_office"


def test_places_per_slot_from_the_counters_when_not_set(booking_app) -> None:
    app, _ = booking_app
    with time_machine.travel(MONDAY_7, tick=False):
        ct = slots(app.test_client(), "CT")
    # CT: counter 1 gives it half its weight, counter 3 half: one counter; 20 / 5 minutes = 4
    # citizens a slot, 75 % bookable = 3.
    assert ct["per_slot"] == 3 and all(s["left"] == 3 for s in ct["slots"])


def test_places_rule() -> None:
    fb = FieldBooking(spans=["08:00-11:00"], slot_minutes=15, share=50)
    assert fb.places([(2, 3), (1, 3)], 8) == 1  # one counter's worth × 15/8 × 50 % = 0.94 -> at least one
    assert fb.places([(1, 1), (1, 1), (1, 1)], 5) == 4  # 3 × 3 × 50 % = 4.5
    assert fb.places([], 5) == 1
    assert FieldBooking(spans=[], per_slot=7).places([(1, 1)], 5) == 7


@pytest.mark.parametrize(("booking", "key", "words"), [
    ('{ spans = ["08:00-07:00"] }', "offices.0.fields.0.booking.spans", "kết thúc"),
    ('{ spans = { mon = ["08:00-09:00"], xyz = ["08:00-09:00"] } }', "offices.0.fields.0.booking.spans", "xyz"),
    ('{ spans = ["08:00-11:00"], slot_minutes = 2 }', "offices.0.fields.0.booking.slot_minutes", ""),
    ('{ spans = ["08:00-08:10"], slot_minutes = 15 }', "offices.0.fields.0.booking", "08:00-08:10"),
    ('{ spans = ["08:00-11:00"], per_slot = 0 }', "offices.0.fields.0.booking.per_slot", ""),
    ('{ spans = ["08:00-11:00"], days_ahead = 14, colse_minutes_before = 60 }', "offices.0.fields.0.booking.colse_minutes_before", ""),
])
def test_bad_booking_config_names_the_key(tmp_path: Path, booking: str, key: str, words: str) -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("booking = "))
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(line, f"booking = {booking}"), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert key in str(e.value) and words in str(e.value), str(e.value)


def test_demo_makes_civil_status_bookable() -> None:
    config, _ = load_config(DEMO_CONFIG)
    booking = {f.code: f.booking for f in config.offices[0].fields}
    assert booking["HT"] is not None and booking["HT"].per_slot == 2 and booking["CT"] is None
