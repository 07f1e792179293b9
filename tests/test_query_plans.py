"""The queue's hot paths search indexes: a query that scans `tickets` costs nothing on a test
database and a tenth of a second per ticket after a year of a busy centre. Every SELECT and
UPDATE (calling claims the queue's head with an UPDATE that searches for it) that issuing,
calling, starting, finishing and transferring send is captured and put to SQLite's EXPLAIN QUERY PLAN."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from motcua.engine import tickets
from motcua.engine.views import ticket_view
from motcua.models import Ticket
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
BIG_TABLES = ("tickets", "ticket_legs", "ticket_events")


@pytest.fixture
def d(db) -> Driver:
    return Driver(db)


def _captured(db):
    seen: list[tuple[str, tuple]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", grab)


def test_issuing_and_calling_never_scan_the_big_tables(d: Driver, db) -> None:
    for i in range(6):  # some history, so the planner has something to choose between
        d.issue("HT", now=MORNING + timedelta(minutes=i))
    seen, stop = _captured(db)
    try:
        d.issue("HT", now=MORNING + timedelta(minutes=10))
        d.issue("HT", priority="elderly", now=MORNING + timedelta(minutes=10))
        d.next(1, now=MORNING + timedelta(minutes=11))
        d.act(1, "start", now=MORNING + timedelta(minutes=12))
        d.act(1, "transfer", "CT", "front", now=MORNING + timedelta(minutes=13))
        d.next(1, now=MORNING + timedelta(minutes=14))
        d.act(1, "no_show", now=MORNING + timedelta(minutes=15))
    finally:
        stop()
    touching = [(sql, params) for sql, params in seen if any(f" {t} " in f" {sql} ".replace("\n", " ") for t in BIG_TABLES)]
    assert len(touching) >= 5, "the hot paths were not captured"
    scans = []
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for sql, params in touching:
            plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            scans += [(step, sql) for step in plan if any(step.startswith(f"SCAN {t}") for t in BIG_TABLES)]
    assert not scans, "\n\n".join(f"{step}\n  in: {sql}" for step, sql in scans)


def test_issued_answer_is_the_ticket_view(db) -> None:
    """Issuing builds its answer from the rows it holds; it must say what ticket_view says."""
    with db.write() as s:
        office_id = Driver(db)._office(s).id
        issued = tickets.issue_ticket(s, office_id, "HT", now=MORNING)
    with db.read() as s:
        t = s.get(Ticket, issued.id)
        assert issued.view == ticket_view(t)
        assert issued.created and issued.public_id == t.public_id
        assert s.scalar(select(Ticket.waiting_ahead).where(Ticket.id == issued.id)) == issued.waiting_ahead
