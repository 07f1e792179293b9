"""Unit tests of the queue engine on SQLite with the demo office of config.toml."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from motcua.engine import clock, estimates
from motcua.engine.errors import QueueError
from motcua.engine.snapshot import snapshot
from motcua.models import CounterStatus, Office, Ticket, TicketEvent, TicketStatus
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
# A Monday morning, 09:00 in Hanoi.
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


@pytest.fixture
def d(db) -> Driver:
    return Driver(db)


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def events(db, ticket_id: int) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))


# ---- numbering -----------------------------------------------------------------------


def test_numbers_are_per_series_with_prefix_and_digits(d: Driver) -> None:
    codes = [d.issue(f, now=at(i)).code for i, f in enumerate(["HT", "HT", "CT", "HT", "CT", "DD"])]
    assert codes == ["A001", "A002", "B001", "A003", "B002", "C001"]


def test_numbering_restarts_at_local_midnight_not_utc(d: Driver) -> None:
    # 23:59 and 00:01 Hanoi time are 16:59 and 17:01 UTC on the same UTC day.
    late = datetime(2026, 11, 23, 23, 59, tzinfo=VN)
    assert [d.issue("HT", now=late).code for _ in range(2)] == ["A001", "A002"]
    early = late + timedelta(minutes=2)
    with time_machine.travel(early, tick=False):
        t = d.issue("HT")
    assert t.code == "A001"
    assert t.business_day == date(2026, 11, 24)
    assert clock.business_day(late, "Asia/Ho_Chi_Minh") == date(2026, 11, 23)


def test_yesterdays_waiting_tickets_are_not_called_today(d: Driver) -> None:
    d.issue("HT", now=at(0))
    assert d.next(1, now=at(24 * 60)) is None


# ---- idempotency, windows, quota ------------------------------------------------------------


def test_same_idempotency_key_returns_the_first_ticket(d: Driver) -> None:
    a = d.issue("HT", idempotency_key="tap-1234", now=at(0))
    b = d.issue("HT", idempotency_key="tap-1234", now=at(0.1))
    c = d.issue("HT", idempotency_key="tap-5678", now=at(0.2))
    assert a.id == b.id and a.code == "A001" and c.code == "A002"


def _set(db, **settings) -> None:
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        office.settings = {**office.settings, **settings}


def test_outside_issuing_window_is_refused_in_vietnamese(db, d: Driver) -> None:
    _set(db, issuing_windows={"mon": ["07:30-11:00", "13:30-17:00"], "sun": []})
    assert d.issue("HT", now=at(0)).code == "A001"  # 09:00 Monday
    with pytest.raises(QueueError) as e:
        d.issue("HT", now=MORNING.replace(hour=12))
    assert e.value.code == "outside_window" and "07:30–11:00" in e.value.message and e.value.status == 403
    with pytest.raises(QueueError) as e:
        d.issue("HT", now=MORNING + timedelta(days=6))  # Sunday
    assert e.value.code == "closed_day"


def test_a_window_up_to_24_00_holds_the_last_minute_of_the_day(db, d: Driver) -> None:
    # The demo issues "00:00-24:00"; 24:00 once read as 23:59, so the minute before midnight was
    # "outside ticket hours" (a CI run fell into it). The next day starts its own numbers at 00:00.
    _set(db, issuing_windows={"mon": ["00:00-24:00"], "tue": ["00:00-24:00"]})
    last_minute = MORNING.replace(hour=23, minute=59, second=59, microsecond=900_000)
    assert d.issue("HT", now=last_minute).code == "A001"
    assert d.issue("HT", now=last_minute + timedelta(seconds=0.2)).code == "A001"  # Tuesday 00:00:00.1


def test_holiday_is_refused(db, d: Driver) -> None:
    _set(db, holidays=["2026-11-23"])
    with pytest.raises(QueueError) as e:
        d.issue("HT", now=at(0))
    assert e.value.code == "holiday" and "nghỉ lễ" in e.value.message


def test_daily_quota_stops_issuing_and_leaves_no_gap(db, d: Driver) -> None:
    from motcua.models import NumberCounter, Service

    with db.write() as s:
        s.scalar(select(Service).where(Service.code == "DD")).daily_quota = 2
    assert [d.issue("DD", now=at(i)).code for i in range(2)] == ["C001", "C002"]
    with pytest.raises(QueueError) as e:
        d.issue("DD", now=at(3))
    assert e.value.code == "quota_reached" and e.value.status == 409
    # The refused attempt consumed no number: the next day starts clean and today stays at 2.
    with db.read() as s:
        assert sorted(s.scalars(select(Ticket.number).where(Ticket.service_id == Ticket.series_id)).all()) == [1, 2]
        assert s.scalars(select(NumberCounter.last_number)).all() == [2]  # the refused draw rolled back


def test_unknown_field_and_priority_group(d: Driver) -> None:
    with pytest.raises(QueueError) as e:
        d.issue("ZZ", now=at(0))
    assert e.value.code == "unknown_service" and e.value.status == 404
    with pytest.raises(QueueError) as e:
        d.issue("HT", priority="vip", now=at(0))
    assert e.value.code == "unknown_priority"


# ---- calling -------------------------------------------------------------------------------


def test_full_cycle_and_event_log(db, d: Driver) -> None:
    t = d.issue("HT", now=at(0))
    called = d.next(1, now=at(5))
    assert called.id == t.id and called.status == TicketStatus.called
    d.act(1, "recall", now=at(6))
    d.act(1, "start", now=at(7))
    d.act(1, "finish", now=at(15))
    got = d.ticket(t.id)
    assert got.status == TicketStatus.done
    leg = got.leg
    assert (leg.called_at, leg.started_at, leg.finished_at) == (at(5), at(7), at(15))
    assert leg.recalls == 1 and leg.outcome == "served" and leg.counter_id is not None
    assert events(db, t.id) == ["issued", "called", "recalled", "started", "finished"]
    assert d.counter(1).current_ticket_id is None


def test_next_with_nobody_waiting_returns_none(d: Driver) -> None:
    assert d.next(1, now=at(0)) is None


def test_next_finishes_the_citizen_being_served(d: Driver) -> None:
    a, b = d.issue("HT", now=at(0)), d.issue("HT", now=at(1))
    d.next(1, now=at(2))
    d.act(1, "start", now=at(3))
    assert d.next(1, now=at(10)).id == b.id
    assert d.ticket(a.id).status == TicketStatus.done


def test_next_refuses_while_a_called_citizen_has_not_come(d: Driver) -> None:
    d.issue("HT", now=at(0))
    d.issue("HT", now=at(1))
    d.next(1, now=at(2))
    with pytest.raises(QueueError) as e:
        d.next(1, now=at(3))
    assert e.value.code == "ticket_still_called"
    d.act(1, "no_show", now=at(4))
    assert d.next(1, now=at(5)).code == "A002"


def test_priority_ratio_lets_ordinary_tickets_through(d: Driver) -> None:
    ordinary = [d.issue("HT", now=at(i)) for i in range(3)]
    prio = [d.issue("HT", priority="elderly", now=at(10 + i)) for i in range(5)]
    order = []
    for i in range(8):
        order.append(d.serve(1, now=at(20 + i)).code)
    # ratio 2: two priority, one ordinary, two priority, one ordinary, then what is left
    p, o = [t.code for t in prio], [t.code for t in ordinary]
    assert order == [p[0], p[1], o[0], p[2], p[3], o[1], p[4], o[2]]


def test_field_weights_count_waiting_time(d: Driver) -> None:
    # Counter 1 serves HT with weight 2 and CT with weight 1.
    ct = d.issue("CT", now=at(0))
    ht = d.issue("HT", now=at(4))
    # At minute 6: CT waited 6 min (score 6), HT waited 2 min × 2 = 4 -> CT first.
    assert d.serve(1, now=at(6)).id == ct.id
    ct2 = d.issue("CT", now=at(6))
    # At minute 8: HT 4 min × 2 = 8 beats CT 2 min × 1.
    assert d.serve(1, now=at(8)).id == ht.id
    assert d.serve(1, now=at(9)).id == ct2.id


def test_counter_serves_only_its_fields(d: Driver) -> None:
    d.issue("DD", now=at(0))
    assert d.next(1, now=at(1)) is None
    assert d.next(3, now=at(1)).code == "C001"


def test_transfer_to_front_and_back(db, d: Driver) -> None:
    waiting = [d.issue("CT", now=at(i)) for i in range(2)]
    t = d.issue("DD", now=at(2))
    d.next(3, now=at(3))
    d.act(3, "start", now=at(4))
    d.act(3, "transfer", "CT", "front", now=at(6))
    moved = d.ticket(t.id)
    assert moved.status == TicketStatus.waiting and moved.service.code == "CT" and moved.code == "C001"
    assert [leg.outcome for leg in moved.legs] == ["transferred", None]
    assert moved.legs[0].finished_at == at(6) and moved.legs[1].queued_at == at(6)
    # Counter 2 serves CT first: the transferred ticket is at the front.
    assert d.serve(2, now=at(7)).id == t.id
    assert [d.serve(2, now=at(8 + i)).id for i in range(2)] == [w.id for w in waiting]
    assert events(db, t.id) == ["issued", "called", "started", "transferred", "called", "started", "finished"]


def test_transfer_to_back(d: Driver) -> None:
    first = d.issue("CT", now=at(0))
    t = d.issue("DD", now=at(1))
    d.next(3, now=at(2))
    d.act(3, "transfer", "CT", "back", now=at(3))
    assert [d.serve(2, now=at(4 + i)).id for i in range(2)] == [first.id, t.id]


def test_call_a_number_out_of_turn_needs_a_reason_and_is_logged(db, d: Driver) -> None:
    d.issue("HT", now=at(0))
    later = d.issue("HT", now=at(1))
    with pytest.raises(QueueError) as e:
        d.act(1, "call_number", "A002", "  ", now=at(2))
    assert e.value.code == "reason_required"
    t = d.act(1, "call_number", "a002", "Công dân khuyết tật đi cùng người nhà", now=at(2))
    assert t.id == later.id and t.leg.out_of_order
    with db.read() as s:
        e = s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == later.id, TicketEvent.kind == "called"))
        assert e.reason == "Công dân khuyết tật đi cùng người nhà" and e.data == {"out_of_order": True}
    with pytest.raises(QueueError) as err:
        d.act(2, "call_number", "A002", "lại", now=at(3))
    assert err.value.code == "not_waiting"


def test_pause_needs_reason_and_blocks_calls(d: Driver) -> None:
    d.issue("HT", now=at(0))
    d.act(1, "open_counter", now=at(0))
    with pytest.raises(QueueError):
        d.act(1, "pause", "", now=at(1))
    d.act(1, "pause", "Họp giao ban", now=at(1))
    assert d.counter(1).status == CounterStatus.paused
    with pytest.raises(QueueError) as e:
        d.next(1, now=at(2))
    assert e.value.code == "counter_paused"
    d.act(1, "resume", now=at(3))
    assert d.next(1, now=at(4)).code == "A001"


def test_one_counter_per_clerk_and_one_clerk_per_counter(db, d: Driver) -> None:
    from motcua.engine import counters

    d.act(1, "open_counter", now=at(0))
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        c1, c2 = counters.find_counter(s, office, 1), counters.find_counter(s, office, 2)
        with pytest.raises(QueueError) as e:
            counters.open_counter(s, c1, d.clerk(s, 2), at(1))
        assert e.value.code == "counter_taken"
        counters.open_counter(s, c2, d.clerk(s, 1), at(1))  # moving to counter 2 closes counter 1
    assert d.counter(1).status == CounterStatus.closed and d.counter(2).status == CounterStatus.open


def test_cancel_by_citizen_clears_the_counter(db, d: Driver) -> None:
    from motcua.engine import tickets

    t = d.issue("HT", now=at(0))
    d.next(1, now=at(1))
    with db.write() as s:
        tickets.cancel_ticket(s, s.get(Ticket, t.id), reason="citizen", now=at(2))
    assert d.ticket(t.id).status == TicketStatus.cancelled and d.counter(1).current_ticket_id is None
    with db.write() as s, pytest.raises(QueueError):
        tickets.cancel_ticket(s, s.get(Ticket, t.id), now=at(3))


# ---- estimates and snapshot ------------------------------------------------------------------


def test_estimate_is_unknown_without_open_counters_and_a_range_otherwise(db, d: Driver) -> None:
    t = d.issue("DD", now=at(0))
    assert t.eta_low is None and t.eta_high is None
    d.act(3, "open_counter", now=at(1))
    issued = [d.issue("DD", now=at(2 + i)) for i in range(3)]
    # DD is typically 15 minutes at one counter: the later a ticket, the later its range.
    lows = [x.eta_low for x in issued]
    assert lows == sorted(lows) and issued[-1].eta_low >= 30
    assert all(x.eta_high - x.eta_low <= max(10, 0.4 * (x.eta_low + x.eta_high) / 2) for x in issued)
    assert estimates.Eta(None, None).text() == "Không xác định"


def test_estimate_learns_from_recent_service_times(db, d: Driver) -> None:
    for i in range(4):
        d.issue("DD", now=at(i))
    for start in (5, 10, 15):  # three 4-minute services instead of the configured 15
        d.next(3, now=at(start))
        d.act(3, "start", now=at(start))
        d.act(3, "finish", now=at(start + 4))
    t = d.issue("DD", now=at(20))  # one waiting ahead, the counter free
    assert t.eta_high <= 10


def test_snapshot_has_counters_services_calls_and_sequence(db, d: Driver) -> None:
    d.issue("HT", now=at(0))
    d.issue("CT", now=at(1))
    called = d.next(1, now=at(2))
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        snap = snapshot(s, office, at(3))
        seq = office.event_seq
    assert snap["seq"] == seq > 0
    c1 = next(c for c in snap["counters"] if c["number"] == 1)
    assert c1["ticket"]["code"] == called.code and c1["status"] == "open"
    waiting = {sv["code"]: sv["waiting"] for sv in snap["services"]}
    assert waiting["HT"] + waiting["CT"] == 1
    assert snap["recent_calls"][0]["code"] == called.code and snap["recent_calls"][0]["counter"] == 1


def test_every_change_gets_the_next_sequence_number(db) -> None:
    seen = []
    db.subscribe(lambda changes: seen.extend(changes))
    d = Driver(db)
    d.issue("HT", now=at(0))
    d.next(1, now=at(1))
    seqs = [c.seq for c in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert [c.kind for c in seen] == ["ticket.issued", "counter.updated", "ticket.called"]
    call = seen[-1].data["call"]
    assert call["code"] == "A001" and call["counter"] == 1 and isinstance(call["id"], int)


def test_nothing_is_published_for_a_rolled_back_transaction(db) -> None:
    seen = []
    db.subscribe(lambda changes: seen.extend(changes))
    with pytest.raises(QueueError):
        Driver(db).issue("ZZ", now=at(0))
    assert seen == []


def test_no_show_is_refused_until_the_call_is_old_enough(d: Driver) -> None:
    """A stray key right after "next" never marks a citizen absent (office's no_show_min_seconds, 5 by default)."""
    d.issue("HT", now=at(0))
    called = d.next(1, now=at(1))
    with pytest.raises(QueueError) as e:
        d.act(1, "no_show", now=at(1) + timedelta(seconds=2))
    assert (e.value.code, e.value.status) == ("called_too_recently", 409)
    assert e.value.message.startswith(f"Phiếu {called.code} vừa được gọi: chờ thêm 3 giây")
    assert "wait 3 more seconds" in e.value.message_en
    assert d.act(1, "no_show", now=at(1) + timedelta(seconds=5)).status == TicketStatus.no_show
