"""A counter's planned hours on the manager's counter form (/manager/config/counters/<id>): typed as
config.toml's `hours` (one line for every working day, or a line a day), checked with its rules,
stored per weekday as the seed stores them, and seen by the wait estimate at once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from motcua.engine import estimates
from motcua.models import AuditLog, Counter, Office, Service
from tests.support.engine import Driver
from tests.support.forms import manager_client, one, post

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 23, tzinfo=HCM)
WORKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")  # the demo office does not work on Sunday
COUNTER_3 = {"number": "3", "name": "Quầy 3 — Đất đai", "active": "y", "weight-DD": "1"}  # the only counter of DD


def url(app) -> str:
    return f"/manager/config/counters/{one(app, Counter, number=3).id}"


def test_hours_are_saved_in_config_tomls_shape_shown_again_and_cleared(app, demo) -> None:
    client = manager_client(app, demo)
    assert 'id="hours"' in client.get(url(app)).get_data(as_text=True)
    assert "own hours" in client.get(f"{url(app)}?lang=en").get_data(as_text=True)

    # One line: every day the office works (Saturday too, as config.toml's list means).
    r = post(client, url(app), {**COUNTER_3, "hours": "07:30-11:30, 13:30-17:00"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert one(app, Counter, number=3).hours == {d: ["07:30-11:30", "13:30-17:00"] for d in WORKDAYS}
    assert "07:30-11:30, 13:30-17:00</textarea>" in client.get(url(app)).get_data(as_text=True)
    row = one(app, AuditLog, entity="counter")
    assert row.changes["hours"] == [None, {d: ["07:30-11:30", "13:30-17:00"] for d in WORKDAYS}]

    # A line a day: those days only.
    r = post(client, url(app), {**COUNTER_3, "hours": "mon: 07:30-11:30, 13:30-15:00\nFri: 13:30-17:30"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert one(app, Counter, number=3).hours == {"mon": ["07:30-11:30", "13:30-15:00"], "fri": ["13:30-17:30"]}
    assert "mon: 07:30-11:30, 13:30-15:00\nfri: 13:30-17:30</textarea>" in client.get(url(app)).get_data(as_text=True)

    # A post without the input (an older page) keeps them; an empty input means the office's hours.
    assert post(client, url(app), COUNTER_3).status_code == 302
    assert one(app, Counter, number=3).hours == {"mon": ["07:30-11:30", "13:30-15:00"], "fri": ["13:30-17:30"]}
    assert post(client, url(app), {**COUNTER_3, "hours": "  \n"}).status_code == 302
    assert one(app, Counter, number=3).hours is None


def test_bad_hours_are_refused_under_their_input_and_nothing_is_stored(app, demo) -> None:
    client = manager_client(app, demo)
    for text, vi, en in (("25:00-26:00", "“25:00-26:00” không đúng dạng", "“25:00-26:00” is not a time span"),
                         ("abc", "“abc” không đúng dạng", "“abc” is not a time span"),
                         ("mon: 11:30-07:30", "giờ kết thúc phải sau giờ bắt đầu", "the end must be after the start"),
                         ("mon: 07:30-11:30\nhằng ngày 13:30-17:00", "mỗi dòng bắt đầu bằng một ngày", "start each line with a day")):
        for lang, expected in (("vi", vi), ("en", en)):
            r = post(client, f"{url(app)}?lang={lang}", {**COUNTER_3, "hours": text}, form_url=url(app))
            page = r.get_data(as_text=True)
            assert r.status_code == 422, (text, r.status_code)
            assert 'id="hours-error"' in page and expected in page.replace("&#34;", '"'), (text, lang)
    assert one(app, Counter, number=3).hours is None
    assert one(app, AuditLog, entity="counter") is None


def test_the_estimate_sees_saved_hours_at_once(app, demo, db) -> None:
    """Counter 3 worked this morning and closed: without hours of its own it is on a break and back
    at 13:30; planned to end at 08:00, nobody will call DD today."""
    d = Driver(db)
    d.act(3, "open_counter", now=MONDAY.replace(hour=7, minute=35))
    d.act(3, "close_counter", now=MONDAY.replace(hour=8, minute=30))

    def newcomer() -> estimates.Eta:
        with db.read() as s:
            dd = s.get(Service, one(app, Service, code="DD").id)
            return estimates.estimate(s, s.get(Office, dd.office_id), dd.id, MONDAY.replace(hour=9)).eta

    assert newcomer().known  # read now, kept a minute: the form must drop it
    client = manager_client(app, demo)
    assert post(client, url(app), {**COUNTER_3, "hours": "07:30-08:00"}).status_code == 302
    eta = newcomer()
    assert not eta.known and eta.text() == "Không xác định" and eta.text_en() == "Unknown"
    assert post(client, url(app), {**COUNTER_3, "hours": ""}).status_code == 302
    assert newcomer().known
