"""Citizen ratings: only the pad of the counter that served the ticket, only after "finish",
only within the window, once per ticket; a low rating needs a reason. Engine and API."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from motcua.engine import ratings
from motcua.engine.errors import QueueError
from motcua.models import Counter, Device, DeviceKind, Office, Rating, Ticket, TicketLeg, User
from motcua.security import new_token, token_hash
from tests.support.engine import Driver

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)  # a Monday, 09:00 in Hanoi
PAD_1 = "Đánh giá quầy 1"


def at(seconds: float) -> datetime:
    return MORNING + timedelta(seconds=seconds)


@pytest.fixture
def d(db) -> Driver:
    return Driver(db)


def add_pad(db, counter: int | None, kind: DeviceKind = DeviceKind.rating, name: str | None = None) -> str:
    """Another device of the demo office; returns its bearer token."""
    token = new_token("dev")
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        c = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == counter)) if counter else None
        s.add(Device(office_id=office.id, name=name or f"pad-{kind.value}-{counter}", kind=kind, token_hash=token_hash(token),
                     counter_id=c.id if c else None, created_at=at(0)))
    return token


def pad(db, name: str = PAD_1) -> Device:
    with db.read() as s:
        return s.scalar(select(Device).where(Device.name == name))


def rate(db, ticket_id: int, score: int, reason: str | None = None, *, device: Device, now: datetime):
    with db.write() as s:
        r = ratings.rate(s, s.get(Ticket, ticket_id), score, reason, device=s.get(Device, device.id), now=now)
        return r.id


def served(d: Driver, counter: int = 1, service: str = "HT", finish_at: float = 60) -> Ticket:
    """Issue a ticket, call it at `counter`, start, and finish it at MORNING + finish_at seconds."""
    t = d.issue(service, now=at(0))
    assert d.next(counter, now=at(10)).id == t.id
    d.act(counter, "start", now=at(20))
    d.act(counter, "finish", now=at(finish_at))
    return d.ticket(t.id)


# ---- engine ----------------------------------------------------------------------------------


def test_rating_stores_ticket_leg_clerk_counter_service_and_day(db, d: Driver) -> None:
    t = served(d)
    seen: list = []
    db.subscribe(seen.extend)
    rid = rate(db, t.id, 2, None, device=pad(db), now=at(75))
    with db.read() as s:
        r = s.get(Rating, rid)
        leg = s.scalar(select(TicketLeg).where(TicketLeg.ticket_id == t.id))
        clerk = s.scalar(select(User).where(User.username == "demo-clerk1"))
        counter1 = s.scalar(select(Counter).where(Counter.number == 1))
        assert (r.ticket_id, r.leg_id, r.clerk_id, r.counter_id, r.service_id) == (t.id, leg.id, clerk.id, counter1.id, leg.service_id)
        assert (r.score, r.scale, r.reason) == (2, 4, None)
        assert r.business_day.isoformat() == "2026-11-23"
        assert r.created_at == at(75)
    change = [c for c in seen if c.kind == "rating.created"]
    assert len(change) == 1
    view = change[0].data["rating"]
    assert (view["ticket"], view["score"], view["label"], view["label_en"], view["low"], view["counter"], view["service"]) == (
        t.code, 2, "Hài lòng", "Satisfied", False, 1, "HT")
    assert "reason" not in view  # changes reach citizens' phones: complaints stay with managers


def test_score_one_is_the_best_level_and_the_last_levels_need_a_reason(db, d: Driver) -> None:
    t = served(d)
    with pytest.raises(QueueError) as e:
        rate(db, t.id, 4, "   ", device=pad(db), now=at(70))
    assert (e.value.code, e.value.status) == ("reason_required", 422)
    assert "lý do" in e.value.message
    for bad in (0, 5, -1):
        with pytest.raises(QueueError) as e:
            rate(db, t.id, bad, "x", device=pad(db), now=at(70))
        assert (e.value.code, e.value.status) == ("bad_score", 422)
    rid = rate(db, t.id, 4, "Chờ đợi quá lâu", device=pad(db), now=at(70))
    with db.read() as s:
        assert (s.get(Rating, rid).score, s.get(Rating, rid).reason) == (4, "Chờ đợi quá lâu")


def test_low_count_follows_the_office_settings(db, d: Driver) -> None:
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        office.settings = {**office.settings, "rating_scale": ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"],
                           "rating_scale_en": ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"],
                           "rating_low_count": 2}
    t = served(d)
    with pytest.raises(QueueError) as e:
        rate(db, t.id, 4, None, device=pad(db), now=at(70))
    assert e.value.code == "reason_required"
    rid = rate(db, t.id, 3, None, device=pad(db), now=at(70))  # "Bình thường" is not low here
    with db.read() as s:
        assert s.get(Rating, rid).scale == 5


def test_before_finish_nothing_can_be_rated(db, d: Driver) -> None:
    t = d.issue("HT", now=at(0))
    for step in (None, "call_next", "start"):
        if step == "call_next":
            d.next(1, now=at(10))
        elif step == "start":
            d.act(1, "start", now=at(20))
        with pytest.raises(QueueError) as e:
            rate(db, t.id, 1, None, device=pad(db), now=at(30))
        assert (e.value.code, e.value.status) == ("not_finished", 409)


def test_a_no_show_or_transferred_leg_is_not_rated(db, d: Driver) -> None:
    a = d.issue("HT", now=at(0))
    d.next(1, now=at(5))
    d.act(1, "no_show", now=at(10))
    b = d.issue("HT", now=at(11))
    d.next(1, now=at(12))
    d.act(1, "transfer", "CT", "front", now=at(15))
    for t in (a, b):
        with pytest.raises(QueueError) as e:
            rate(db, t.id, 1, None, device=pad(db), now=at(20))
        assert e.value.code == "not_finished"


def test_only_the_pad_of_the_counter_that_served_may_rate(db, d: Driver) -> None:
    add_pad(db, 2)
    add_pad(db, None, name="pad-without-counter")
    add_pad(db, 1, DeviceKind.counter_display, name="display-1")
    t = served(d, counter=1)
    cases = [("pad-rating-2", "wrong_counter", 403), ("pad-without-counter", "pad_without_counter", 409), ("display-1", "forbidden", 403)]
    for name, code, status in cases:
        with pytest.raises(QueueError) as e:
            rate(db, t.id, 1, None, device=pad(db, name), now=at(70))
        assert (e.value.code, e.value.status) == (code, status)
    rate(db, t.id, 1, None, device=pad(db), now=at(70))


def test_a_transferred_ticket_is_rated_at_the_counter_that_served_it_last(db, d: Driver) -> None:
    add_pad(db, 2)
    t = d.issue("HT", now=at(0))
    d.next(1, now=at(5))
    d.act(1, "start", now=at(6))
    d.act(1, "transfer", "DD", "front", now=at(30))  # counter 3 serves Đất đai
    assert d.next(3, now=at(40)).id == t.id
    d.act(3, "start", now=at(50))
    d.act(3, "finish", now=at(100))
    with pytest.raises(QueueError) as e:
        rate(db, t.id, 1, None, device=pad(db), now=at(110))
    assert e.value.code == "wrong_counter"
    pad3 = add_pad(db, 3)
    assert pad3
    rid = rate(db, t.id, 1, None, device=pad(db, "pad-rating-3"), now=at(110))
    with db.read() as s:
        r = s.get(Rating, rid)
        legs = s.scalars(select(TicketLeg).where(TicketLeg.ticket_id == t.id).order_by(TicketLeg.seq)).all()
        assert r.leg_id == legs[1].id and r.service_id == legs[1].service_id
        assert r.counter_id == s.scalar(select(Counter.id).where(Counter.number == 3))


def test_one_rating_per_ticket(db, d: Driver) -> None:
    t = served(d)
    rate(db, t.id, 1, None, device=pad(db), now=at(61))
    with pytest.raises(QueueError) as e:
        rate(db, t.id, 2, None, device=pad(db), now=at(62))
    assert (e.value.code, e.value.status) == ("already_rated", 409)
    with db.read() as s:
        assert s.scalars(select(Rating.score).where(Rating.ticket_id == t.id)).all() == [1]


def test_window_is_rating_seconds_plus_grace_after_finish(db, d: Driver) -> None:
    t1 = served(d, finish_at=60)
    last_ok = 60 + 30 + ratings.GRACE_SECONDS
    rate(db, t1.id, 1, None, device=pad(db), now=at(last_ok))
    t2 = served(d, finish_at=200)
    with pytest.raises(QueueError) as e:
        rate(db, t2.id, 1, None, device=pad(db), now=at(200 + 30 + ratings.GRACE_SECONDS + 1))
    assert (e.value.code, e.value.status) == ("rating_expired", 409)


def test_pending_tells_a_reloaded_pad_what_it_may_still_rate(db, d: Driver) -> None:
    t = served(d, finish_at=60)
    with db.read() as s:
        device = s.get(Device, pad(db).id)
        found = ratings.pending(s, device, now=at(70))
        assert found is not None and found[0].id == t.id and found[1] == 20
        assert ratings.pending(s, device, now=at(60 + 30 + ratings.GRACE_SECONDS + 1)) is None
    rate(db, t.id, 1, None, device=pad(db), now=at(71))
    with db.read() as s:
        assert ratings.pending(s, s.get(Device, pad(db).id), now=at(72)) is None


# ---- API -------------------------------------------------------------------------------------


def post_rating(client, headers: dict, ticket: str, score: int, reason: str | None = None):
    body = {"ticket": ticket, "score": score}
    if reason is not None:
        body["reason"] = reason
    return client.post("/api/v1/ratings", json=body, headers=headers)


def api_cycle(client, demo, counter: int = 1, until: str = "finish") -> str:
    """Issue at the kiosk and walk the ticket through counter `counter` via the API; returns its public id."""
    r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    assert r.status_code == 201, r.json
    public_id = r.json["public_id"]
    clerk = demo.clerk(counter).headers
    for step in ("next", "start", "finish"):
        assert client.post(f"/api/v1/counters/{counter}/{step}", headers=clerk).status_code == 200
        if step == until:
            break
    return public_id


def test_api_refuses_before_finish_and_accepts_after(client, demo) -> None:
    pad_headers = demo.device_headers(PAD_1)
    with time_machine.travel(MORNING, tick=False):
        public_id = api_cycle(client, demo, until="start")
        r = post_rating(client, pad_headers, public_id, 1)
        assert r.status_code == 409
        assert r.json["error"]["code"] == "not_finished"
        assert r.json["error"]["message"].startswith("Phiếu A001 chưa")
        assert r.json["error"]["message_en"].startswith("Ticket A001 has not")
        assert client.post("/api/v1/counters/1/finish", headers=demo.clerk(1).headers).status_code == 200
        r = post_rating(client, pad_headers, public_id, 1)
    assert r.status_code == 201, r.json
    assert {k: r.json[k] for k in ("ticket", "score", "scale", "label", "low", "counter", "service")} == {
        "ticket": "A001", "score": 1, "scale": 4, "label": "Rất hài lòng", "low": False, "counter": 1, "service": "HT"}


def test_api_second_rating_is_409_and_the_first_stands(client, demo, db) -> None:
    pad_headers = demo.device_headers(PAD_1)
    public_id = api_cycle(client, demo)
    assert post_rating(client, pad_headers, public_id, 2).status_code == 201
    r = post_rating(client, pad_headers, public_id, 1)
    assert r.status_code == 409
    assert r.json["error"] == {"code": "already_rated", "message": "Phiếu A001 đã được đánh giá.",
                               "message_en": "Ticket A001 has already been rated."}
    with db.read() as s:
        assert s.scalars(select(Rating.score)).all() == [2]


def test_api_low_rating_without_reason_is_422(client, demo) -> None:
    pad_headers = demo.device_headers(PAD_1)
    public_id = api_cycle(client, demo)
    r = post_rating(client, pad_headers, public_id, 4)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "reason_required"
    r = post_rating(client, pad_headers, public_id, 4, "Chờ đợi quá lâu; giấy hẹn ghi sai ngày")
    assert r.status_code == 201
    assert r.json["low"] is True and r.json["has_reason"] is True


def test_api_validates_the_body(client, demo) -> None:
    pad_headers = demo.device_headers(PAD_1)
    public_id = api_cycle(client, demo)
    for body in ({"ticket": public_id}, {"ticket": public_id, "score": 0}, {"ticket": public_id, "score": 1, "extra": 1},
                 {"ticket": public_id, "score": "rất tốt"}):
        r = client.post("/api/v1/ratings", json=body, headers=pad_headers)
        assert r.status_code == 422, body
        assert r.json["error"]["code"] == "invalid_body"
    r = post_rating(client, pad_headers, "khong-co-phieu-nay", 1)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_ticket")


def test_api_wrong_pad_and_wrong_callers_are_refused(client, demo, db) -> None:
    other_pad = {"Authorization": f"Bearer {add_pad(db, 2)}"}
    public_id = api_cycle(client, demo, counter=1)
    r = post_rating(client, other_pad, public_id, 1)
    assert (r.status_code, r.json["error"]["code"]) == (403, "wrong_counter")
    for headers in (demo.kiosk, demo.device_headers("Màn hình quầy 1"), demo.clerk(1).headers, demo.manager.headers):
        r = post_rating(client, headers, public_id, 1)
        assert (r.status_code, r.json["error"]["code"]) == (403, "forbidden")
    r = post_rating(client, {}, public_id, 1)
    assert r.status_code == 401
    assert post_rating(client, demo.device_headers(PAD_1), public_id, 1).status_code == 201


def test_api_window_expires(client, demo) -> None:
    pad_headers = demo.device_headers(PAD_1)
    with time_machine.travel(MORNING, tick=False):
        late = api_cycle(client, demo)
    with time_machine.travel(MORNING + timedelta(seconds=30 + ratings.GRACE_SECONDS + 1), tick=False):
        r = post_rating(client, pad_headers, late, 1)
        assert (r.status_code, r.json["error"]["code"]) == (409, "rating_expired")
        assert r.json["error"]["message"] == "Đã hết thời gian đánh giá phiếu A001."
        in_time = api_cycle(client, demo)
    with time_machine.travel(MORNING + timedelta(seconds=30 + ratings.GRACE_SECONDS + 1 + 29), tick=False):
        assert post_rating(client, pad_headers, in_time, 1).status_code == 201


def test_api_another_offices_ticket_is_unknown(make_app) -> None:
    from tests.support.env import TWO_OFFICES

    app, demos = make_app(config=TWO_OFFICES)
    token = new_token("dev")
    db = app.extensions["motcua"].db
    with db.write() as s:
        b = s.scalar(select(Office).where(Office.code == "xa-b"))
        c = s.scalar(select(Counter).where(Counter.office_id == b.id))
        s.add(Device(office_id=b.id, name="Đánh giá B", kind=DeviceKind.rating, token_hash=token_hash(token), counter_id=c.id, created_at=at(0)))
    client = app.test_client()
    a = demos["phuong-a"]
    r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=a.kiosk)
    for step in ("next", "start", "finish"):
        assert client.post(f"/api/v1/counters/1/{step}", headers=a.clerk(1).headers).status_code == 200
    r = post_rating(client, {"Authorization": f"Bearer {token}"}, r.json["public_id"], 1)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_ticket")


def test_api_is_in_the_openapi_document(client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/ratings"]["post"]
    assert "201" in op["responses"]
    assert doc["components"]["schemas"]["RateTicket"]["required"] == ["ticket", "score"]


@pytest.mark.postgres
def test_concurrent_duplicate_ratings_on_postgresql_give_one_rating_and_a_clean_409(pg_url, make_app) -> None:
    app, demos = make_app(database_url=pg_url)
    demo = demos["demo"]
    client = app.test_client()
    public_id = api_cycle(client, demo)
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def one(score: int) -> None:
        c = app.test_client()
        barrier.wait()
        codes.append(post_rating(c, demo.device_headers(PAD_1), public_id, score).status_code)

    threads = [threading.Thread(target=one, args=(1 + i % 3,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409, 409, 409, 409, 409]
    with app.extensions["motcua"].db.read() as s:
        assert len(s.scalars(select(Rating)).all()) == 1
