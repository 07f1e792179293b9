"""waiting_counts, the per-field waiting tally that triggers on `tickets` keep, always equals
counting the queue: after each way a ticket enters or leaves a queue, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import case, delete, func, select, update

from motcua.dayend import close_day
from motcua.engine import tickets
from motcua.engine.views import waiting_count
from motcua.models import Office, PrintJob, Service, Ticket, TicketEvent, TicketLeg, TicketStatus, WaitingCount
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 8, 30, tzinfo=VN)


def counted(db) -> dict:
    """(field, day) -> (waiting, priority), by counting the tickets themselves."""
    with db.read() as s:
        rows = s.execute(select(Ticket.service_id, Ticket.business_day, func.count(),
                                func.sum(case((Ticket.priority_group_id.is_not(None), 1), else_=0)))
                         .where(Ticket.status == TicketStatus.waiting).group_by(Ticket.service_id, Ticket.business_day))
        return {(sid, day): (n, int(p)) for sid, day, n, p in rows}


def kept(db) -> dict:
    with db.read() as s:
        rows = s.execute(select(WaitingCount.service_id, WaitingCount.business_day, WaitingCount.waiting, WaitingCount.priority))
        return {(sid, day): (n, p) for sid, day, n, p in rows if (n, p) != (0, 0)}


def the_day_of_a_queue(db) -> list[str]:
    """Walk tickets through every way in and out of a queue; after each step the tallies agree."""
    d = Driver(db)
    steps = []

    def step(name: str) -> None:
        steps.append(name)
        assert kept(db) == counted(db), f"after {name}"

    def at(minutes: int) -> datetime:
        return MORNING + timedelta(minutes=minutes)

    for i in range(4):
        d.issue("HT", now=at(i))
    d.issue("HT", priority="elderly", now=at(4))
    d.issue("CT", now=at(5))
    step("issue, ordinary and priority")
    first = d.next(1, now=at(6))
    assert first is not None
    step("call next (the priority ticket)")
    d.act(1, "start", now=at(7))
    d.act(1, "transfer", "CT", "front", now=at(8))
    step("transfer a ticket being served into another field's queue")
    d.next(1, now=at(9))
    d.act(1, "no_show", now=at(10))
    step("no-show")
    with db.write() as s:
        code = s.scalar(select(Ticket.code).where(Ticket.status == TicketStatus.waiting).order_by(Ticket.id.desc()))
    d.act(2, "call_number", code, "hồ sơ bổ sung", now=at(11))
    step("call a number out of turn")
    with db.write() as s:
        t = s.scalar(select(Ticket).where(Ticket.status == TicketStatus.waiting).order_by(Ticket.id))
        tickets.cancel_ticket(s, t, reason="citizen", now=at(12))
    step("cancel a waiting ticket")
    with db.write() as s:  # what a manager's SQL or a repair script might do
        s.execute(update(Ticket).where(Ticket.status == TicketStatus.waiting, Ticket.service_id == _id(s, "HT"))
                  .values(priority_group_id=None))
        gone = s.scalar(select(Ticket.id).where(Ticket.status == TicketStatus.waiting).order_by(Ticket.id.desc()))
        for model in (TicketEvent, TicketLeg, PrintJob):
            s.execute(delete(model).where(model.ticket_id == gone))
        s.execute(delete(Ticket).where(Ticket.id == gone))
    step("change priority and delete a waiting ticket with plain SQL")
    d.issue("HT", now=at(24 * 60))
    step("issue on the next business day")
    with db.read() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
    assert close_day(db, office_id, now=at(24 * 60 + 1)).tickets_closed > 0
    step("day end cancels yesterday's queue")
    with db.read() as s:
        ht = _id(s, "HT")
        assert waiting_count(s, ht, at(24 * 60).date()) == 1
        assert waiting_count(s, ht, MORNING.date()) == 0
    return steps


def _id(s, code: str) -> int:
    return s.scalar(select(Service.id).where(Service.code == code))


def test_waiting_counts_follow_every_move_on_sqlite(db) -> None:
    assert len(the_day_of_a_queue(db)) == 9


def test_waiting_counts_follow_every_move_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(database_url=pg_url)
    assert len(the_day_of_a_queue(app.extensions["motcua"].db)) == 9


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migration_counts_the_tickets_already_waiting(database: str, request, make_app) -> None:
    """Upgrading a database that already has a queue fills waiting_counts from it."""
    from alembic import command

    from motcua.migrate import alembic_config, upgrade

    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    app, _ = make_app(database_url=url)
    db = app.extensions["motcua"].db
    d = Driver(db)
    for i in range(3):
        d.issue("HT", now=MORNING + timedelta(minutes=i))
    d.issue("CT", priority="elderly", now=MORNING)
    cfg = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.connect() as conn:  # back to before waiting_counts, then up again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "cecb06c0b819")
        conn.commit()
    upgrade(db.engine)
    assert kept(db) == counted(db) and sum(n for n, _ in counted(db).values()) == 4
