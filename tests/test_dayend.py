"""Day end (motcua.dayend): yesterday's open tickets are cancelled with the reason "day_end"
through the engine, never deleted; counters close; exactly one process does it, even when two
schedulers fire at the same moment on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from motcua import dayend
from motcua.app import create_app
from motcua.models import Counter, CounterEvent, CounterStatus, Office, Ticket, TicketEvent, TicketStatus
from tests.support.engine import Driver
from tests.support.env import DEMO_CONFIG

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# A Monday in the office's zone, the night after, and the Tuesday morning.
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=HCM)
TUESDAY_0007 = datetime(2026, 11, 24, 0, 7, tzinfo=HCM)
TUESDAY_0900 = datetime(2026, 11, 24, 9, 0, tzinfo=HCM)


def yesterday_left_open(db) -> dict[str, int]:
    """Monday ends with citizens waiting, one called at counter 1, one served at counter 2,
    one done; counter 3 open and idle. Returns ticket ids by what happened to them."""
    d = Driver(db)
    done = d.issue("HT", now=MONDAY)
    d.serve(1, now=MONDAY + timedelta(minutes=1))
    called = d.issue("HT", now=MONDAY + timedelta(minutes=2))
    serving = d.issue("CT", now=MONDAY + timedelta(minutes=3))
    waiting = [d.issue(code, now=MONDAY + timedelta(minutes=4 + i)) for i, code in enumerate(("HT", "DD", "KD"))]
    assert d.next(1, now=MONDAY + timedelta(minutes=10)).id == called.id
    assert d.next(2, now=MONDAY + timedelta(minutes=11)).id == serving.id
    d.act(2, "start", now=MONDAY + timedelta(minutes=12))
    d.act(3, "open_counter", now=MONDAY + timedelta(minutes=13))
    return {"done": done.id, "called": called.id, "serving": serving.id, **{f"waiting{i}": t.id for i, t in enumerate(waiting)}}


def office_id(db) -> int:
    with db.read() as s:
        return s.scalar(select(Office.id).where(Office.code == "demo"))


def check_closed_once(db, ids: dict[str, int]) -> None:
    with db.read() as s:
        tickets = {t.id: t for t in s.scalars(select(Ticket).where(Ticket.id.in_(ids.values())))}
        assert len(tickets) == len(ids), "day end must never delete a ticket"
        assert tickets[ids["done"]].status == TicketStatus.done
        for key, tid in ids.items():
            if key == "done":
                continue
            assert tickets[tid].status == TicketStatus.cancelled, key
            events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.kind == "cancelled")).all()
            assert [(e.reason, e.user_id) for e in events] == [("day_end", None)], f"{key}: cancelled exactly once, by the day end"
        before = {e.ticket_id: e.from_status for e in s.scalars(select(TicketEvent).where(TicketEvent.kind == "cancelled"))}
        assert before[ids["called"]] == "called" and before[ids["serving"]] == "serving" and before[ids["waiting0"]] == "waiting"
        counters = {c.number: c for c in s.scalars(select(Counter))}
        assert all(c.status == CounterStatus.closed and c.current_ticket_id is None and c.clerk_id is None for c in counters.values())
        closes = s.scalar(select(func.count()).select_from(CounterEvent).where(CounterEvent.kind == "closed", CounterEvent.user_id.is_(None)))
        assert closes == 3  # counters 1, 2 and 3 were open; 4 was never opened
        runs = s.scalars(select(dayend.DayEndRun)).all()
        assert [(r.business_day.isoformat(), r.tickets_closed, r.counters_closed) for r in runs] == [("2026-11-24", 5, 3)]


def test_day_end_cancels_yesterdays_open_tickets_and_closes_counters(app, db) -> None:
    ids = yesterday_left_open(db)
    published: list = []
    db.subscribe(published.extend)
    result = dayend.close_day(db, office_id(db), now=TUESDAY_0007)
    assert result == dayend.DayEndResult("demo", TUESDAY_0007.date(), 5, 3)
    check_closed_once(db, ids)
    # Displays hear it like any cancellation, and see the counters close.
    kinds = [c.kind for c in published]
    assert kinds.count("ticket.cancelled") == 5 and kinds.count("counter.updated") == 3
    # The same day end again (another tick, another process) does nothing.
    assert dayend.close_day(db, office_id(db), now=TUESDAY_0007 + timedelta(minutes=5)) is None
    check_closed_once(db, ids)


def test_todays_tickets_and_a_working_office_are_left_alone(app, db) -> None:
    d = Driver(db)
    old = d.issue("HT", now=MONDAY)
    today = d.issue("HT", now=TUESDAY_0007 - timedelta(minutes=2))  # 00:05: already Tuesday's
    d.act(3, "open_counter", now=TUESDAY_0007)
    # The day end runs late (the server was down at midnight) while the office works (07:30-11:30).
    result = dayend.close_day(db, office_id(db), now=TUESDAY_0900)
    assert (result.tickets_closed, result.counters_closed) == (1, 0)
    assert d.ticket(old.id).status == TicketStatus.cancelled
    assert d.ticket(today.id).status == TicketStatus.waiting and d.ticket(today.id).number == 1
    assert d.counter(3).status == CounterStatus.open


def test_run_due_covers_every_office_in_its_own_time_zone(make_app) -> None:
    from tests.support.env import TWO_OFFICES

    app, _ = make_app(TWO_OFFICES)
    db = app.extensions["motcua"].db
    # 00:30 in Ho Chi Minh City is 00:30 in Bangkok's zone too (both UTC+7): one run each.
    results = dayend.run_due(app, now=datetime(2026, 11, 24, 0, 30, tzinfo=HCM))
    assert sorted(r.office for r in results) == ["phuong-a", "xa-b"]
    assert dayend.run_due(app, now=datetime(2026, 11, 24, 0, 35, tzinfo=HCM)) == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(dayend.DayEndRun)) == 2
    assert app.extensions["motcua.dayend"].history[-1] == []


def race_two_schedulers(db_url: str, first_app, tmp_path) -> None:
    """Two apps (as in two processes) whose real schedulers fire at the same instant."""
    from motcua.engine import clock

    second = create_app(DEMO_CONFIG, database_url=db_url, instance=tmp_path / "second", testing=True, plugins=False)
    apps = [first_app, second]
    db = first_app.extensions["motcua"].db
    ids = yesterday_left_open(db)
    fire_at = datetime.now(clock.zone("UTC")) + timedelta(seconds=1.5)
    try:
        for a in apps:
            dayend.start(a, first_run=fire_at, now=TUESDAY_0007)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(a.extensions["motcua.dayend"].history for a in apps):
            time.sleep(0.05)
    finally:
        for a in apps:
            dayend.stop(a)
    histories = [a.extensions["motcua.dayend"].history for a in apps]
    assert all(histories), "both schedulers must have fired"
    winners = [h[0] for h in histories if h[0]]
    assert len(winners) == 1, f"exactly one process runs the day end, got {histories}"
    check_closed_once(db, ids)
    second.extensions["motcua"].db.dispose()


def test_two_schedulers_race_on_sqlite(app, tmp_path) -> None:
    race_two_schedulers(app.extensions["motcua"].settings["database_url"], app, tmp_path)


@pytest.mark.postgres
def test_two_schedulers_race_on_postgresql(pg_url, make_app, tmp_path) -> None:
    app, _ = make_app(database_url=pg_url)
    race_two_schedulers(pg_url, app, tmp_path)


def test_many_racing_threads_one_claim(app, db, tmp_path) -> None:
    """Eight callers released by one barrier (four per app): one result, the rest None."""
    second = create_app(DEMO_CONFIG, database_url=app.extensions["motcua"].settings["database_url"],
                        instance=tmp_path / "second", testing=True, plugins=False)
    yesterday_left_open(db)
    oid = office_id(db)
    barrier = threading.Barrier(8)
    results: list = []

    def go(a) -> None:
        barrier.wait()
        results.append(dayend.close_day(a.extensions["motcua"].db, oid, now=TUESDAY_0007))

    threads = [threading.Thread(target=go, args=(a,)) for a in [app, second] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 8 and sum(r is not None for r in results) == 1
    second.extensions["motcua"].db.dispose()
