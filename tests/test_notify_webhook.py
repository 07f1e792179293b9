"""Notifications through an office's SMS/Zalo gateway (a webhook), end to end with a real HTTP
gateway on loopback that checks every signature: "near" at 5 and 2 people ahead and "called" with
the counter, retried after 500s and accepted once each; never twice (a recall, the sweep, the
trigger again, two senders at once); nothing for a cancelled ticket; the phone only in the
gateway's body, never in the log or the outbox."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, text

from motcua import notify
from motcua.models import Ticket
from motcua.notify import outbox, seal, sender
from motcua.notify.outbox import Notification
from tests.support.engine import Driver
from tests.support.gateway import notify_config as write_config
from tests.support.gateway import start_gateway

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
PHONE = "0912345678"


@pytest.fixture(scope="module")
def gateway():
    gw = start_gateway()
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def notify_config(gateway, tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("notify"), gateway.url)


@pytest.fixture
def office(make_app, notify_config, gateway):
    gateway.reset()
    app, demos = make_app(config=notify_config)
    with time_machine.travel(MONDAY, tick=False):
        yield app, demos["demo"], Driver(app.extensions["motcua"].db)


def remote(client, phone: str = PHONE, service: str = "HT") -> dict:
    r = client.post("/api/v1/public/tickets", json={"office": "demo", "service": service, "phone": phone})
    assert r.status_code == 201, r.json
    return r.json


def rows(db) -> list[Notification]:
    with db.read() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def passes(app, at: datetime, *offsets: int) -> list[sender.Outcome]:
    """Sender passes at these seconds after `at` (the retries' back-off is 10 s, then 30 s)."""
    return [notify.run_once(app, at + timedelta(seconds=s)) for s in offsets]


def test_near_and_called_reach_the_gateway_once_each_after_500s(office, gateway, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    app, _demo, drive = office
    db = app.extensions["motcua"].db
    gateway.fail_first = 2
    for _ in range(7):
        drive.issue("HT")
    mine = remote(app.test_client())
    assert mine["code"] == "A008" and mine["waiting_ahead"] == 7
    now = datetime.now(HCM)
    t = now

    def call_and_deliver() -> None:
        nonlocal t
        t += timedelta(minutes=5)
        drive.serve(2, now=t)
        passes(app, t, 0, 10, 40)  # 500, 500, then 200

    call_and_deliver()  # 6 ahead: nothing yet
    assert rows(db) == [] and gateway.received == []
    call_and_deliver()  # 5 ahead
    call_and_deliver()  # 4
    call_and_deliver()  # 3
    call_and_deliver()  # 2
    call_and_deliver()  # 1
    call_and_deliver()  # 0
    called = drive.next(2, now=t + timedelta(minutes=5))
    assert called.code == "A008"
    passes(app, t + timedelta(minutes=5), 0, 10, 40)

    accepted = gateway.accepted
    assert all(r.signature_ok for r in gateway.received)
    assert [(r.body["event"], r.body.get("ahead")) for r in accepted] == [("near", 5), ("near", 2), ("called", None)]
    near5, _near2, call = (r.body for r in accepted)
    assert near5 == {"event": "near", "office": "demo", "ticket": {"code": "A008", "service": "Hộ tịch"}, "phone": PHONE,
                     "ahead": 5, "at": near5["at"]}
    assert list(near5) == ["event", "office", "ticket", "phone", "ahead", "at"]
    assert call["ticket"] == {"code": "A008", "service": "Hộ tịch", "counter": 2} and call["phone"] == PHONE
    # Three attempts each, under one delivery id each (the gateway de-duplicates by it).
    assert len(gateway.received) == 9 and len({r.delivery for r in gateway.received}) == 3
    notes = rows(db)
    assert [(n.event, n.key, n.status, n.attempts) for n in notes] == [("near", "5", "sent", 3), ("near", "2", "sent", 3),
                                                                         ("called", "", "sent", 3)]
    assert {r.delivery for r in accepted} == {str(n.id) for n in notes}
    assert all(n.phone_mask == "09xx xxx 678" and n.channel == "webhook:1" for n in notes)

    # Never twice: a recall, the sweep, the same changes applied again, later passes.
    later = t + timedelta(minutes=10)
    drive.act(2, "recall", now=later)
    assert notify.apply_seen(app, later, sweep=True) == 0
    with db.write() as s:
        again = notify.triggers.apply(app, s, [notify.triggers.Seen("ticket.called", called.office_id, called.id)], later)
    assert again == 0
    passes(app, later, 0, 600, 3600)
    assert len(gateway.accepted) == 3 and len(rows(db)) == 3

    # The phone: in the gateway's body only. Not in the log, not in the outbox; the ticket's sealed
    # copy goes when it ends.
    assert PHONE not in caplog.text and PHONE[1:] not in caplog.text
    with db.read() as s:
        dump = " ".join(str(row) for row in s.execute(text("SELECT * FROM notifications")))
        assert PHONE[1:] not in dump
        assert s.get(Ticket, called.id).phone_sealed is not None
    drive.act(2, "start", now=later)
    drive.act(2, "finish", now=later)
    notify.run_once(app, later)
    with db.read() as s:
        assert s.get(Ticket, called.id).phone_sealed is None


def test_two_senders_at_once_send_each_message_once(office, gateway) -> None:
    app, _demo, drive = office
    db = app.extensions["motcua"].db
    gateway.delay_s = 0.05
    client = app.test_client()
    for _ in range(8):
        drive.issue("HT")
    mine = [remote(client, f"09123450{i:02d}") for i in range(6)]  # 8 to 13 ahead
    now = datetime.now(HCM)
    for _ in range(8):
        drive.serve(1, now=now)
    drive.next(1, now=now)  # the first remote number called, the other five 0 to 4 ahead
    notify.apply_seen(app, now)
    queued = rows(db)
    assert [(n.event, n.key) for n in queued] == [("called", ""), ("near", "2"), ("near", "2"), ("near", "2"), ("near", "5"), ("near", "5")]
    outcomes: list[sender.Outcome] = []
    threads = [threading.Thread(target=lambda: outcomes.append(sender.send_due(app, db, now))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(o.sent for o in outcomes) == len(queued)
    assert sorted(int(r.delivery) for r in gateway.accepted) == [n.id for n in queued]
    assert all(n.status == "sent" and n.attempts == 1 for n in rows(db))
    assert mine[0]["code"] == "A009" and gateway.accepted[0].body["ticket"]["code"] in {m["code"] for m in mine}


def test_nothing_is_sent_for_a_cancelled_ticket(office, gateway) -> None:
    app, _demo, drive = office
    db = app.extensions["motcua"].db
    client = app.test_client()
    for _ in range(6):
        drive.issue("HT")
    first = remote(client, "0912000111")  # 6 ahead
    gateway.always = 500
    now = datetime.now(HCM)
    drive.serve(1, now=now)
    drive.serve(1, now=now)
    drive.next(1, now=now)  # 3 ahead: "near" (5) queued, and the gateway is down
    notify.run_once(app, now)
    assert [(n.event, n.status) for n in rows(db)] == [("near", "pending")]
    assert client.post(f"/api/v1/tickets/{first['public_id']}/cancel", json={}).status_code == 200
    gateway.always = None
    passes(app, now, 10, 40, 200)
    assert gateway.accepted == []
    note = rows(db)[0]
    assert note.status == "dropped" and note.last_error == "ticket cancelled"
    with db.read() as s:
        assert s.scalar(select(Ticket.phone_sealed).where(Ticket.public_id == first["public_id"])) is None


def test_a_gateway_that_stays_down_fails_after_five_attempts_and_a_refusal_drops(office, gateway) -> None:
    app, _demo, drive = office
    db = app.extensions["motcua"].db
    client = app.test_client()
    for _ in range(6):
        drive.issue("HT")
    remote(client, "0912000222")  # 6 ahead
    remote(client, "0912000333")  # 7 ahead
    gateway.always = 500
    now = datetime.now(HCM)
    for _ in range(3):
        drive.serve(1, now=now)  # 3 and 4 ahead: a "near" (5) for each
    out = passes(app, now, 0, 10, 40, 160, 760)
    assert [o.retried for o in out] == [2, 2, 2, 2, 0] and out[-1].failed == 2
    assert {(n.status, n.attempts) for n in rows(db)} == {("failed", 5)}
    assert passes(app, now, 5000)[0].ids == []
    gateway.always = 400
    drive.next(1, now=now + timedelta(hours=1))  # 2 ahead for the first: its "near" (2)
    notify.run_once(app, now + timedelta(hours=1))
    newest = [n for n in rows(db) if n.created_at >= now + timedelta(hours=1)]
    assert newest and all(n.status == "dropped" and n.last_error == "HTTP 400" and n.attempts == 1 for n in newest)


def test_events_the_notifier_does_not_want_are_not_queued(make_app, gateway, tmp_path) -> None:
    gateway.reset()
    app, _ = make_app(config=write_config(tmp_path, gateway.url, events=["called"]))
    drive = Driver(app.extensions["motcua"].db)
    with time_machine.travel(MONDAY, tick=False):
        drive.issue("HT")
        remote(app.test_client())
        drive.serve(1)
        drive.next(1)
        notify.run_once(app)
    assert [(n.event, n.status) for n in rows(app.extensions["motcua"].db)] == [("called", "sent")]


def test_an_office_without_a_gateway_keeps_no_phone(make_app) -> None:
    from tests.support.env import REPO

    app, _ = make_app(config=REPO / "tests" / "data" / "remote.toml")
    with time_machine.travel(MONDAY, tick=False):
        remote(app.test_client())
    db = app.extensions["motcua"].db
    with db.read() as s:
        t = s.scalar(select(Ticket))
        assert t.phone_mask == "09xx xxx 678" and t.phone_sealed is None
    assert outbox.PENDING == "pending" and rows(db) == []


def test_the_delivery_log_and_the_report_show_masked_phones_by_status(office, gateway) -> None:
    import io

    import openpyxl

    from motcua.models import Office
    from tests.support.demo import login

    app, demo, drive = office
    db = app.extensions["motcua"].db
    client = app.test_client()
    for _ in range(6):
        drive.issue("HT")
    mine = remote(client)
    now = datetime.now(HCM)
    drive.serve(1, now=now)
    drive.serve(1, now=now)
    drive.serve(1, now=now)  # 3 ahead: "near" (5), sent
    notify.run_once(app, now)
    gateway.always = 400
    drive.serve(1, now=now)  # 2 ahead: "near" (2), refused
    notify.run_once(app, now)
    gateway.always = None
    sealed = seal.seal(app.config["SECRET_KEY"], "0900000000")
    with db.write() as s:  # enough appointment messages for a second page
        o = s.scalar(select(Office))
        for i in range(60):
            notify.queue_for_appointment(app, s, o, 1000 + i, "booked", {"ticket": {"code": f"H{i:03d}", "service": "Hộ tịch"}},
                                         phone_sealed=sealed, phone_mask="09xx xxx 000", now=now)
    login(client, demo.manager)
    page = client.get("/manager/notifications?day=2026-09-07")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nhật ký gửi tin" in html and "Trang 1 / 2" in html
    assert "Gửi không được" in html and PHONE not in html
    dropped = client.get("/manager/notifications?day=07/09/2026&status=dropped").get_data(as_text=True)
    assert mine["code"] in dropped and "09xx xxx 678" in dropped and "HTTP 400" in dropped and "Trang 1 /" not in dropped
    english = client.get("/manager/notifications?day=2026-09-07&status=sent&lang=en").get_data(as_text=True)
    assert "Delivery log" in english and "Near their turn" in english and "09xx xxx 678" in english
    assert "Tin nhắn gửi công dân" in client.get("/manager/reports?from=2026-09-07&to=2026-09-07&lang=vi").get_data(as_text=True)
    book = client.get("/manager/reports/export.xlsx?from=2026-09-07&to=2026-09-07")
    sheet = openpyxl.load_workbook(io.BytesIO(book.data))["Tin nhắn gửi công dân"]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][:3] == ["Sự kiện", "Kênh", "Đã gửi"]
    assert ["Sắp đến lượt", "webhook:1", 1, 0, 1, 0, 2] in table and ["Xác nhận đặt lịch", "webhook:1", 0, 0, 0, 60, 0] in table


@pytest.mark.postgres
def test_on_postgresql_the_outbox_refuses_repeats_and_senders_share_nothing(pg_url: str, make_app, notify_config, gateway) -> None:
    gateway.reset()
    gateway.delay_s = 0.05
    app, _ = make_app(config=notify_config, database_url=pg_url)
    db = app.extensions["motcua"].db
    drive = Driver(db)
    with time_machine.travel(MONDAY, tick=False):
        for _ in range(6):
            drive.issue("HT")
        client = app.test_client()
        for i in range(4):
            remote(client, f"09123451{i:02d}")  # 6 to 9 ahead
        now = datetime.now(HCM)
        for _ in range(5):
            drive.serve(1, now=now)
        assert notify.apply_seen(app, now) == 4  # 1 to 4 ahead: "near" (2) twice, "near" (5) twice
        assert notify.apply_seen(app, now, sweep=True) == 0
        outcomes: list[sender.Outcome] = []
        threads = [threading.Thread(target=lambda: outcomes.append(sender.send_due(app, db, now))) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert sum(o.sent for o in outcomes) == 4  # the others found each row claimed, or gone from the due list
    assert all(n.status == "sent" and n.attempts == 1 for n in rows(db))
    assert sorted(int(r.delivery) for r in gateway.accepted) == [n.id for n in rows(db)]


def test_a_number_still_to_check_in_is_told_it_is_near(make_app, gateway, tmp_path) -> None:
    """With the office's remote_check_in, a remote number keeps its place but no counter calls it
    until the kiosk checks it in: "near" is what brings its citizen in."""
    from tests.support.gateway import REMOTE

    gateway.reset()
    base = tmp_path / "check_in.toml"
    base.write_text(REMOTE.read_text(encoding="utf-8").replace("remote_check_in = false", "remote_check_in = true"), encoding="utf-8")
    app, _ = make_app(config=write_config(tmp_path, gateway.url, base=base))
    db = app.extensions["motcua"].db
    drive = Driver(db)
    with time_machine.travel(MONDAY, tick=False):
        for _ in range(6):
            drive.issue("HT")
        mine = remote(app.test_client())
        assert mine["awaiting_check_in"] and mine["waiting_ahead"] == 6
        now = datetime.now(HCM)
        for _ in range(3):
            drive.serve(1, now=now)
        notify.run_once(app, now)
    assert [(r.body["event"], r.body["ahead"], r.body["ticket"]["code"]) for r in gateway.accepted] == [("near", 3, mine["code"])]


def test_the_sweep_makes_up_for_changes_a_stopped_process_lost(office, gateway) -> None:
    app, _demo, drive = office
    for _ in range(6):
        drive.issue("HT")
    called_one = remote(app.test_client(), "0912000444")  # 6 ahead
    near_one = remote(app.test_client(), "0912000555")  # 7 ahead
    now = datetime.now(HCM)
    for _ in range(3):
        drive.serve(1, now=now)
        drive.serve(2, now=now)
    drive.next(2, now=now)  # the first remote number called
    app.extensions["motcua.notify"].seen.clear()  # as if the process had stopped before applying them
    assert notify.run_once(app, now).ids == []
    out = notify.run_once(app, now, sweep=True)
    assert out.sent == 2
    got = sorted((r.body["event"], r.body["ticket"]["code"], r.body.get("ahead")) for r in gateway.accepted)
    assert got == [("called", called_one["code"], None), ("near", near_one["code"], 0)]
