"""The queue order is one rule (motcua.engine.queue_order): the clerk's waiting list, "people ahead"
on the status page and the tickets call next takes must agree, ties in queue key included."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from counter.waiting import waiting_for_counter
from motcua.engine import counters, ticket_sql
from motcua.engine.queue_order import Head, pick_at, streak_after
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


# ---- the appointment class (pick_at is pure: heads in, the head a counter calls out) -----------

def test_an_open_appointment_goes_before_walk_ins_who_waited_longer() -> None:
    walk_in = Head(1, False, 1000.0)
    appointment = Head(1, False, 1500.0, appointment=True)
    assert pick_at([walk_in, appointment], {1: 1.0}, 0, 2, 2000.0) == appointment
    assert pick_at([walk_in], {1: 1.0}, 0, 2, 2000.0) == walk_in


def test_priority_first_then_the_ratio_hands_the_turn_to_the_appointment() -> None:
    prio, appointment, walk_in = Head(1, True, 1800.0), Head(1, False, 1900.0, appointment=True), Head(1, False, 100.0)
    heads = [prio, appointment, walk_in]
    assert pick_at(heads, {1: 1.0}, 0, 2, 2000.0) == prio
    assert pick_at(heads, {1: 1.0}, 1, 2, 2000.0) == prio
    assert pick_at(heads, {1: 1.0}, 2, 2, 2000.0) == appointment  # the ratio: a non-priority turn, the appointment's
    assert streak_after(2, appointment.priority) == 0  # an appointment's call counts as ordinary for the streak
    assert pick_at([appointment, walk_in], {1: 1.0}, 5, 2, 2000.0) == appointment


def test_appointment_heads_of_fields_sharing_a_counter_compete_by_weight_and_time() -> None:
    a1, a2, walk_in = Head(1, False, 1000.0, appointment=True), Head(2, False, 1400.0, appointment=True), Head(2, False, 0.0)
    assert pick_at([a1, a2, walk_in], {1: 1.0, 2: 1.0}, 0, 2, 2000.0) == a1  # 1000 s since its window opened against 600
    assert pick_at([a1, a2, walk_in], {1: 1.0, 2: 2.0}, 0, 2, 2000.0) == a2  # weight 2 × 600 > 1000
    assert a1.cls == "appointment" and walk_in.cls == "ordinary" and Head(1, True, 0.0).cls == "priority"


def test_an_early_arrival_is_a_walk_in_until_its_window_opens(db) -> None:
    """The classes follow the clock: the list, "people ahead" and the claim at two moments."""
    d = Driver(db)
    walk_in = d.issue("DD", now=at(0))
    early = d.issue("DD", now=at(1))
    late_walk_in = d.issue("DD", now=at(2))
    with db.write() as s:  # checked in at minute 1 for a window that opens at minute 10
        s.get(Ticket, early.id).appointment_from = at(10).timestamp()
    d.act(3, "open_counter", now=at(3))

    def order(minute: float) -> tuple[list[str], dict[str, int]]:
        with db.read() as s:
            office = d._office(s)
            c = counters.find_counter(s, office, 3)
            listed = [t["code"] for t in waiting_for_counter(s, office, c, None, at(minute))["services"][0]["tickets"]]
            return listed, {t.code: ahead_of(s, s.get(Ticket, t.id), at(minute)) for t in (walk_in, early, late_walk_in)}

    assert order(5) == ([walk_in.code, early.code, late_walk_in.code], {walk_in.code: 0, early.code: 1, late_walk_in.code: 2})
    assert order(10) == ([early.code, walk_in.code, late_walk_in.code], {walk_in.code: 1, early.code: 0, late_walk_in.code: 2})
    assert ticket_sql.CLAIM_HEAD.keys() == {"priority", "appointment", "ordinary"}
    assert d.serve(3, now=at(11)).code == early.code
    assert d.serve(3, now=at(12)).code == walk_in.code
