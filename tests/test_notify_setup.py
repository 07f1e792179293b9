"""Setting notifications up: `[[offices.notifiers]]` and `notify_ahead` checked with errors that
name the key; the bundled example gateway (run as offices run it) accepting a signed message
once and refusing a bad signature; the day end clearing every sealed phone."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from motcua import dayend, notify
from motcua.config import ConfigError, load_config
from motcua.engine import clock
from motcua.models import Office, Ticket
from motcua.notify import seal
from motcua.notify.webhook import signature
from tests.support.env import REPO, free_port
from tests.support.gateway import REMOTE, notify_config, start_gateway
from tests.support.waiting import wait_until

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)


def test_the_demo_config_asks_near_at_5_and_2_with_no_gateway() -> None:
    config, _ = load_config(REPO / "config.toml")
    assert config.offices[0].notify_ahead == [5, 2] and config.offices[0].notifiers == []


def test_a_good_notifier_defaults_to_every_event(tmp_path: Path) -> None:
    config, _ = load_config(notify_config(tmp_path, "https://sms.example.vn/hook"))
    (n,) = config.offices[0].notifiers
    assert n.kind == "webhook" and n.events == ["near", "called", "booked", "reminder"]


@pytest.mark.parametrize(
    ("notifier", "key", "words"),
    [
        ('kind = "sms"\nurl = "https://a.vn/"\nsecret = "s"', "offices.0.notifiers.0.kind", "webhook"),
        ('kind = "webhook"\nurl = "ftp://a.vn/"\nsecret = "s"', "offices.0.notifiers.0.url", "http"),
        ('kind = "webhook"\nurl = "https://a.vn/"\nsecret = "  "', "offices.0.notifiers.0.secret", "khoá bí mật"),
        ('kind = "webhook"\nurl = "https://a.vn/"', "offices.0.notifiers.0.secret", ""),
        ('kind = "webhook"\nurl = "https://a.vn/"\nsecret = "s"\nevents = ["near", "paid"]', "offices.0.notifiers.0.events.1", "'reminder'"),
        ('kind = "webhook"\nurl = "https://a.vn/"\nsecret = "s"\nevents = []', "offices.0.notifiers.0.events", ""),
    ],
)
def test_a_bad_notifier_names_the_key(tmp_path: Path, notifier: str, key: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(REMOTE.read_text(encoding="utf-8") + "\n[[offices.notifiers]]\n" + notifier + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert key in str(e.value) and words in str(e.value)


@pytest.mark.parametrize(("value", "words"), [("[5, 5]", "notify_ahead"), ("[60]", "0 đến 50")])
def test_bad_thresholds_name_the_key(tmp_path: Path, value: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(REMOTE.read_text(encoding="utf-8").replace("remote_share = 50\n", f"remote_share = 50\nnotify_ahead = {value}\n", 1),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "offices.0.notify_ahead" in str(e.value) and words in str(e.value)


def post(url: str, body: bytes, sig: str, delivery: str) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"X-Motcua-Signature": sig, "X-Motcua-Delivery": delivery, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_example_gateway_checks_the_signature_and_sends_once(tmp_path: Path) -> None:
    port, secret = free_port(), "example-secret"
    proc = subprocess.Popen([sys.executable, "-m", "motcua.gateways.example", "--port", str(port), "--secret", secret],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    try:
        assert "listening" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        body = json.dumps({"event": "called", "office": "demo", "ticket": {"code": "A012", "service": "Hộ tịch", "counter": 3},
                           "phone": "0912345678", "at": "2026-09-07T02:00:00+00:00"}, ensure_ascii=False).encode()
        assert post(url, body, signature("wrong", body), "1") == (401, "bad signature")
        assert post(url, body + b" ", signature(secret, body), "1") == (401, "bad signature")  # signed another body
        assert post(url, body, signature(secret, body), "7") == (200, "sent")
        assert post(url, body, signature(secret, body), "7") == (200, "duplicate")  # a retry of a delivery it took
        near = json.dumps({"event": "near", "office": "demo", "ticket": {"code": "A012", "service": "Hộ tịch"},
                           "phone": "0912345678", "ahead": 2, "at": "2026-09-07T02:00:00+00:00"}).encode()
        assert post(url, near, signature(secret, near), "8") == (200, "sent")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    lines = [line for line in out.splitlines() if line.startswith("SMS")]
    assert lines == ["SMS → 09xx xxx 678: Mời công dân số A012 đến quầy số 3.",
                     "SMS → 09xx xxx 678: Số A012 sắp đến lượt: còn 2 người trước bạn. Vui lòng có mặt tại Hộ tịch."]
    assert "0912345678" not in out


def test_the_seal_opens_only_with_the_instance_secret() -> None:
    sealed = seal.seal("instance-secret", "0912345678")
    assert "0912345678" not in sealed and seal.unseal("instance-secret", sealed) == "0912345678"
    assert seal.unseal("another-secret", sealed) is None


def test_day_end_clears_sealed_phones(make_app, tmp_path: Path) -> None:
    gateway = start_gateway()
    try:
        app, _ = make_app(config=notify_config(tmp_path, gateway.url))
        db = app.extensions["motcua"].db
        client = app.test_client()
        with time_machine.travel(MONDAY, tick=False):
            r = client.post("/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": "0912345678"})
            assert r.status_code == 201
            with db.read() as s:
                sealed = s.scalar(select(Ticket.phone_sealed))
                office_id = s.scalar(select(Office.id))
            assert seal.unseal(app.config["SECRET_KEY"], sealed) == "0912345678"
        with time_machine.travel(MONDAY + timedelta(days=1, hours=-8, minutes=30), tick=False):  # 00:30 the next day
            assert dayend.close_day(db, office_id, clock.now()) is not None
        with db.read() as s:
            assert s.scalar(select(Ticket.phone_sealed)) is None
    finally:
        gateway.close()


def test_a_served_office_tells_its_gateway_without_being_asked(live_server_factory, tmp_path: Path) -> None:
    """`motcua serve` runs the notify worker: a clerk's call reaches the gateway within seconds."""
    import requests

    from tests.support.env import DEMO_CONFIG

    gateway = start_gateway()
    try:
        server = live_server_factory(config=notify_config(tmp_path, gateway.url, base=DEMO_CONFIG))
        r = requests.post(f"{server.url}/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": "0912345678"}, timeout=10)
        assert r.status_code == 201, r.text
        call = requests.post(f"{server.url}/api/v1/counters/1/next", headers=server.demo.clerk(1).headers, timeout=10)
        assert call.json()["ticket"]["code"] == r.json()["code"]
        wait_until(lambda: gateway.accepted, what="the gateway's message")
        (got,) = gateway.accepted
        assert got.signature_ok and got.body["event"] == "called" and got.body["ticket"]["counter"] == 1
        assert got.body["phone"] == "0912345678"
    finally:
        gateway.close()
    assert "0912345678" not in server.log.read_text(encoding="utf-8")


def test_appointment_messages_go_once_and_never_after_a_cancellation(make_app, tmp_path: Path) -> None:
    from motcua.notify import sender

    gateway = start_gateway()
    cancelled = {42}
    sender.stale_checks["a"] = lambda _s, note: "appointment cancelled" if note.appointment_id in cancelled else None
    try:
        app, _ = make_app(config=notify_config(tmp_path, gateway.url, events=["booked", "reminder"]))
        db = app.extensions["motcua"].db
        sealed = seal.seal(app.config["SECRET_KEY"], "0912345678")
        with time_machine.travel(MONDAY, tick=False), db.write() as s:
            office = s.scalar(select(Office))
            body = {"ticket": {"code": "H041", "service": "Hộ tịch"}, "slot": "2026-09-08T09:30:00+07:00"}
            assert notify.queue_for_appointment(app, s, office, 41, "booked", body, phone_sealed=sealed, phone_mask="09xx xxx 678") == 1
            assert notify.queue_for_appointment(app, s, office, 41, "booked", body, phone_sealed=sealed, phone_mask="09xx xxx 678") == 0
            assert notify.queue_for_appointment(app, s, office, 42, "reminder", body, phone_sealed=sealed, phone_mask="09xx xxx 678") == 1
        with time_machine.travel(MONDAY, tick=False):
            out = notify.run_once(app)
        assert (out.sent, out.dropped) == (1, 1)
        (got,) = gateway.accepted
        assert got.body["event"] == "booked" and got.body["slot"] == "2026-09-08T09:30:00+07:00" and got.body["phone"] == "0912345678"
        with db.read() as s:  # final rows keep no copy of the number
            assert s.scalars(select(notify.Notification.phone_sealed)).all() == [None, None]
    finally:
        sender.stale_checks.pop("a", None)
        gateway.close()


class Board:
    """A channel as Web Push plugs in: it reaches the tickets it was told about, wants "called"
    only, and keeps what it delivered."""

    name = "board"

    def __init__(self, reach: set[int]) -> None:
        self.reach, self.delivered = reach, []

    def wants(self, event: str) -> bool:
        return event == "called"

    def reachable(self, session, ticket_ids) -> set[int]:
        return self.reach & set(ticket_ids)

    def deliver(self, note, sealed) -> None:
        self.delivered.append((note.event, note.body["ticket"], sealed))


def test_a_registered_channel_gets_the_tickets_it_reaches(make_app) -> None:
    from motcua.notify import channels
    from tests.support.engine import Driver

    app, _ = make_app(config=REMOTE)  # no gateway: Web Push (every office has it) and the registered channel
    drive = Driver(app.extensions["motcua"].db)
    board = Board(set())
    channels.register("board", lambda _app, office: board if office == "demo" else None)
    try:
        with time_machine.travel(MONDAY, tick=False):
            other, reached = drive.issue("HT"), drive.issue("HT")  # the first is served, the second called
            board.reach.add(reached.id)
            assert [c.name for c in notify.channels_for(app, "demo")] == ["push", "board"]
            drive.serve(1)
            drive.next(1)
            notify.run_once(app)
        assert board.delivered == [("called", {"code": reached.code, "service": "Hộ tịch", "counter": 1}, None)]
        assert other.code != reached.code
    finally:
        channels.unregister("board")
    assert [c.name for c in notify.channels_for(app, "demo")] == ["push"]
