"""A scripted morning mixing walk-ins, remote numbers, priority citizens and appointments (early,
in their window, late, absent) at two counters, on a moved clock: the exact order of the calls,
the clerk's list and "people ahead" as an early arrival's window opens, and the day end's count
of who never came."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from counter.waiting import waiting_for_counter
from motcua import dayend
from motcua.booking.model import Appointment
from motcua.engine import clock, counters
from motcua.engine.views import ahead_of
from motcua.models import Office, Ticket
from tests.support.engine import Driver
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = REPO / "tests" / "data" / "appointments.toml"


def at(hhmm: str, day: int = 7) -> datetime:
    h, m = hhmm.split(":")
    return datetime(2026, 9, day, int(h), int(m), tzinfo=HCM)


def test_a_mixed_morning_is_called_in_exactly_this_order(make_app, tmp_path) -> None:
    config = tmp_path / "day.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8").replace("daily_quota = 5", "daily_quota = 100"), encoding="utf-8")
    app, demos = make_app(config=config)
    demo, client, db = demos["demo"], app.test_client(), app.extensions["motcua"].db
    d = Driver(db)
    who: dict[str, str] = {}  # ticket code -> label
    booked: dict[str, dict] = {}

    def utc(hhmm: str) -> str:
        return at(hhmm).astimezone(ZoneInfo("UTC")).isoformat()

    def book(label: str, service: str, start: str, phone: str) -> None:
        r = client.post("/api/v1/public/appointments", json={"office": "demo", "service": service, "start": utc(start),
                                                             "name": f"Công dân {label}", "phone": phone})
        assert r.status_code == 201, r.json
        booked[label] = r.json

    def kiosk(label: str, service: str, priority: str | None = None) -> None:
        r = client.post("/api/v1/tickets", json={"service": service, **({"priority": priority} if priority else {})}, headers=demo.kiosk)
        assert r.status_code == 201, r.json
        who[r.json["code"]] = label

    def remote(label: str, service: str, phone: str) -> None:
        r = client.post("/api/v1/public/tickets", json={"office": "demo", "service": service, "phone": phone})
        assert r.status_code == 201 and r.json["source"] == "remote", r.json
        who[r.json["code"]] = label

    def arrive(label: str, arrival: str) -> None:
        r = client.post("/api/v1/tickets", json={"appointment": booked[label]["code"]}, headers=demo.kiosk)
        assert r.status_code == 201 and r.json["appointment"]["arrival"] == arrival, r.json
        who[r.json["code"]] = label

    called: list[tuple[int, str | None]] = []

    def call(counter: int) -> None:
        t = d.serve(counter, now=clock.now())
        called.append((counter, who[t.code] if t else None))

    def listed(counter: int) -> list[str]:
        with db.read() as s:
            office = s.scalar(select(Office))
            c = counters.find_counter(s, office, counter)
            return [who[t["code"]] for f in waiting_for_counter(s, office, c, None)["services"] for t in f["tickets"]]

    def ahead(label: str) -> int:
        code = next(code for code, x in who.items() if x == label)
        with db.read() as s:
            return ahead_of(s, s.scalar(select(Ticket).where(Ticket.code == code)))

    script = [
        ("07:00", lambda: [book("P", "HT", "09:00", "0911000001"), book("Q", "HT", "09:00", "0911000002"),
                           book("R", "HT", "08:30", "0911000003"), book("S", "HT", "09:15", "0911000004"),
                           book("T", "CT", "09:00", "0911000005")]),
        ("08:00", lambda: kiosk("W1", "HT")),
        ("08:05", lambda: kiosk("W2", "CT")),
        ("08:10", lambda: remote("R1", "HT", "0922000001")),
        ("08:15", lambda: kiosk("E1", "HT", "elderly")),
        ("08:20", lambda: kiosk("W3", "HT")),
        ("08:30", lambda: arrive("P", "early")),  # P's window opens at 08:45: a walk-in until then
        ("08:35", lambda: call(2)),
        ("08:36", lambda: call(1)),
        ("08:40", lambda: kiosk("E3", "HT", "elderly")),
        ("08:41", lambda: call(2)),
        ("08:42", lambda: kiosk("E4", "HT", "elderly")),
        ("08:44", lambda: (listed(2) == ["E4", "R1", "W3", "P"] and ahead("P") == 3) or _fail("P waits as a walk-in", listed(2), ahead("P"))),
        ("08:45", lambda: arrive("R", "late")),  # R's window closed at 08:40: a walk-in
        ("08:45", lambda: (listed(2) == ["E4", "P", "R1", "W3", "R"] and ahead("P") == 1) or _fail("P's window opened", listed(2), ahead("P"))),
        ("08:46", lambda: call(2)),  # counter 2 called two priority citizens in a row: the appointment's turn
        ("08:47", lambda: call(2)),
        ("08:50", lambda: arrive("T", "in_window")),
        ("08:55", lambda: arrive("Q", "in_window")),
        ("08:56", lambda: kiosk("E2", "HT", "elderly")),
        ("08:57", lambda: remote("R2", "CT", "0922000002")),
        ("08:58", lambda: call(1)),
        ("08:59", lambda: call(2)),
        ("09:00", lambda: call(1)),
        ("09:01", lambda: call(2)),
        ("09:02", lambda: call(1)),
        ("09:03", lambda: call(2)),
        ("09:04", lambda: call(1)),
        ("09:05", lambda: call(2)),
        ("09:06", lambda: call(1)),
    ]
    for hhmm, step in script:
        with time_machine.travel(at(hhmm), tick=False):
            step()

    assert called == [
        (2, "E1"),  # priority first
        (1, "W1"),  # HT's walk-in waited longer than CT's
        (2, "E3"),  # P came early: still an ordinary walk-in at 08:41
        (2, "P"),  # two priority calls in a row: the open appointment class, before the walk-ins
        (2, "E4"),
        (1, "E2"),  # counter 1's streak is its own
        (2, "Q"),  # in its window: before every walk-in
        (1, "T"),  # CT's appointment, before CT's walk-ins
        (2, "R1"),  # the remote number in its place among walk-ins
        (1, "W2"),  # CT's walk-in waited longer than HT's W3
        (2, "W3"),
        (1, "R"),  # late: a walk-in from its check-in
        (2, None),  # nobody left for HT
        (1, "R2"),
    ]
    # S never came: the day end marks it; punctuality is kept per booking.
    with db.read() as s:
        office_id = s.scalar(select(Office.id))
    with time_machine.travel(at("00:05", day=8), tick=False):
        dayend.close_day(db, office_id, clock.now())
    with db.read() as s:
        rows = {a.name.removeprefix("Công dân "): (a.status.value, a.arrival) for a in s.scalars(select(Appointment))}
    assert rows == {"P": ("checked_in", "early"), "Q": ("checked_in", "in_window"), "R": ("checked_in", "late"),
                    "S": ("no_show", None), "T": ("checked_in", "in_window")}


def _fail(what: str, *seen: object) -> None:
    raise AssertionError(f"{what}: {seen}")
