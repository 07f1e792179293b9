"""Call next, start and finish write with Core statements and build their views from the rows
those return: the views must say what counter_view / ticket_view / service_view say of the
database afterwards, and the session's objects must not be left stale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from motcua.engine import changes, counters
from motcua.engine.views import counter_view, service_view, ticket_view
from motcua.models import Counter, Office, Ticket, TicketEvent, TicketStatus, User
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


@pytest.fixture
def d(db) -> Driver:
    return Driver(db)


def test_objects_the_session_holds_follow_next_start_and_finish(db, d: Driver) -> None:
    t0 = d.issue("HT", priority="elderly", now=at(0))
    with db.write() as s:
        office = d._office(s)
        c = counters.find_counter(s, office, 1)
        user = d.clerk(s, 1)
        counters.open_counter(s, c, user, at(1))
        held = s.get(Ticket, t0.id)
        legs, _ = list(held.legs), held.counter  # loaded before the actions, so they could go stale
        assert c.current_ticket is None

        called = s.get(Ticket, counters.call_next(s, c, user, at(2)))
        assert called is held and held.status == TicketStatus.called and held.counter is c
        assert c.current_ticket is held and c.current_ticket_id == held.id and c.priority_streak == 1
        assert held.leg is legs[-1] and (held.leg.called_at, held.leg.counter_id, held.leg.clerk_id) == (at(2), c.id, user.id)

        assert counters.start(s, c, user, at(3)) is held
        assert held.status == TicketStatus.serving and held.leg.started_at == at(3)

        assert counters.finish(s, c, user, at(9)) is held
        assert held.status == TicketStatus.done and (held.leg.finished_at, held.leg.outcome) == (at(9), "served")
        assert c.current_ticket is None and c.current_ticket_id is None
        assert not s.dirty  # nothing left for a later flush to write over the Core statements
    got = d.ticket(t0.id)
    assert got.status == TicketStatus.done and got.counter_id is not None
    assert (got.leg.called_at, got.leg.started_at, got.leg.finished_at, got.leg.outcome) == (at(2), at(3), at(9), "served")
    with db.read() as s:
        kinds = s.execute(select(TicketEvent.kind, TicketEvent.from_status, TicketEvent.to_status)
                          .where(TicketEvent.ticket_id == t0.id).order_by(TicketEvent.id)).all()
        assert [tuple(k) for k in kinds] == [("issued", None, "waiting"), ("called", "waiting", "called"),
                                             ("started", "called", "serving"), ("finished", "serving", "done")]
        assert s.get(Counter, c.id).priority_streak == 1


def _fresh_views(db, office_code: str, number: int, ticket_id: int, service_code: str | None, now: datetime) -> dict:
    """The views as the ORM builds them from the committed state."""
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == office_code))
        c = counters.find_counter(s, office, number)
        views = {"counter": counter_view(c), "ticket": ticket_view(s.get(Ticket, ticket_id))}
        if service_code:
            svc = next(cs.service for cs in c.services if cs.service.code == service_code)
            views["service"] = service_view(s, office, svc, now)
        return views


@pytest.mark.parametrize("priority", [None, "elderly"])
@time_machine.travel(MORNING)
def test_answers_and_changes_say_what_the_views_say(client, demo, db, priority) -> None:
    seen = []
    db.subscribe(seen.extend)
    h = demo.clerk(2).headers
    for code in ("HT", "CT", "HT"):
        assert client.post("/api/v1/tickets", json={"service": code, "priority": priority}, headers=demo.kiosk).status_code == 201
    for action in ("next", "start", "finish", "next"):
        r = client.post(f"/api/v1/counters/2/{action}", headers=h)
        assert r.status_code == 200, r.get_json()
        body, change = r.get_json(), seen[-1]
        assert body == {"ticket": change.data["ticket"], "counter": change.data["counter"], "seq": change.seq}
        ticket = body["ticket"]
        assert ticket["priority"] == priority and ticket["counter"] == 2 and "public_id" not in ticket
        with db.read() as s:
            now = s.scalar(select(TicketEvent.at).where(TicketEvent.id == s.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()).limit(1))))
        fresh = _fresh_views(db, demo.office_code, 2, ticket["id"], ticket["service"] if action == "next" else None, now)
        assert change.data["counter"] == fresh["counter"] and ticket == fresh["ticket"]
        if action == "next":
            assert change.kind == "ticket.called" and change.data["service"] == fresh["service"]
            assert change.data["call"]["code"] == ticket["code"] and change.data["call"]["counter"] == 2
        else:
            assert change.kind == {"start": "ticket.started", "finish": "ticket.finished"}[action]
            assert set(change.data) == {"counter", "ticket"}


@time_machine.travel(MORNING)
def test_errors_are_unchanged(client, demo) -> None:
    h = demo.clerk(1).headers
    r = client.post("/api/v1/counters/1/start", headers=h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_current_ticket"
    client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    assert client.post("/api/v1/counters/1/next", headers=h).status_code == 200
    r = client.post("/api/v1/counters/1/finish", headers=h)
    assert r.status_code == 409 and r.get_json()["error"]["message"] == "Phiếu A001 không ở trạng thái đang phục vụ."
    r = client.post("/api/v1/counters/1/next", headers=h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ticket_still_called"
    assert client.post("/api/v1/counters/1/start", headers=h).status_code == 200
    r = client.post("/api/v1/counters/1/start", headers=h)
    assert r.status_code == 409 and r.get_json()["error"]["message_en"] == "Ticket A001 is not called."
    body = client.post("/api/v1/counters/1/next", headers=h).get_json()  # finishes A001; nobody else waits
    assert body["ticket"] is None and body["counter"]["ticket"] is None


def test_clerk_of_another_user_is_named(db, d: Driver) -> None:
    """A manager calling at a clerk's counter: the counter still shows its clerk."""
    d.issue("HT", now=at(0))
    d.act(1, "open_counter", now=at(1))
    seen = []
    db.subscribe(seen.extend)
    with db.write() as s:
        c = counters.find_counter(s, d._office(s), 1)
        manager = s.scalar(select(User).where(User.username == "demo-manager"))
        counters.call_next(s, c, manager, at(2))
    assert seen[-1].data["counter"]["clerk"] == "Clerk1 demo"


def _fields_of_counter_2(db) -> tuple[list[str], list[str]]:
    """Counter 2's fields as counter_view (the ORM) lists them, and as call next (Core) does.
    The demo config lists CT before HT for it, and seeds them in that order."""
    d = Driver(db)
    d.issue("CT", now=at(0))
    with db.write() as s:
        office = d._office(s)
        c = counters.find_counter(s, office, 2)
        counters.open_counter(s, c, d.clerk(s, 2), at(1))
        counters.call_next(s, c, d.clerk(s, 2), at(2))
        called = changes.recorded(s)[-1].data["counter"]["services"]
    with db.read() as s:
        return counter_view(counters.find_counter(s, d._office(s), 2))["services"], called


def test_a_counters_fields_come_in_one_order_on_sqlite(db) -> None:
    assert _fields_of_counter_2(db) == (["HT", "CT"], ["HT", "CT"])


def test_a_counters_fields_come_in_the_same_order_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(database_url=pg_url)
    assert _fields_of_counter_2(app.extensions["motcua"].db) == (["HT", "CT"], ["HT", "CT"])
