"""The queue order is one rule (motcua.engine.queue_order): the clerk's waiting list, "people ahead"
on the status page and the tickets call next takes must agree, ties in queue key included."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from counter.waiting import waiting_for_counter
from motcua.engine import counters
from motcua.engine.views import ahead_of
from motcua.models import Ticket
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def test_waiting_list_people_ahead_and_calls_follow_one_order(db) -> None:
    d = Driver(db)
    with db.write() as s:  # priority strictly first, so a one-field counter calls in the field's order
        office = d._office(s)
        office.settings = {**office.settings, "priority_ratio": 100}
    # Counter 3 serves DD alone. Two pairs share a queue key (issued in the same instant).
    issued = [d.issue("DD", now=at(0)), d.issue("DD", now=at(1)), d.issue("DD", priority="elderly", now=at(2)),
              d.issue("DD", priority="elderly", now=at(2)), d.issue("DD", now=at(3)), d.issue("DD", now=at(3))]
    d.act(3, "open_counter", now=at(4))
    with db.read() as s:
        office = d._office(s)
        listed = [t["code"] for t in waiting_for_counter(s, office, counters.find_counter(s, office, 3), None, at(5))["services"][0]["tickets"]]
        ahead = {t.code: ahead_of(s, s.get(Ticket, t.id)) for t in issued}
    codes = [t.code for t in issued]
    assert listed == [codes[2], codes[3], codes[0], codes[1], codes[4], codes[5]]
    assert [ahead[code] for code in listed] == list(range(len(listed)))

    called = []
    for minute in range(6, 6 + len(listed)):
        t = d.serve(3, now=at(minute))
        called.append(t.code)
    assert called == listed
