"""Web Push (motcua.notify.push): the browser's subscription through the public API, messages
encrypted for it, signed with the server's VAPID key and read back by a push service on
127.0.0.1 that decrypts them with the subscription's keys; subscriptions dropped when the
browser is gone and when the ticket ends; endpoints outside the allow-list refused."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from motcua import dayend
from motcua.config import PUSH_SERVICES, ConfigError, load_config
from motcua.engine.errors import QueueError
from motcua.models import Office, Ticket
from motcua.notify import push
from motcua.notify.subscriptions import PushSubscription
from tests.support.api import error_of
from tests.support.engine import Driver
from tests.support.env import DEMO_CONFIG
from tests.support.push_service import PushService

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def service():
    svc = PushService()
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def push_config(tmp_path_factory, service) -> object:
    """The demo office, with the local push service admitted next to the vendors' ones."""
    path = tmp_path_factory.mktemp("push") / "config.toml"
    services = ", ".join(f'"{s}"' for s in (*PUSH_SERVICES, service.origin))
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("[server]\n", f"[server]\npush_services = [{services}]\n", 1), encoding="utf-8")
    return path


@pytest.fixture
def push_app(make_app, push_config):
    app, demos = make_app(config=push_config)
    return app, demos["demo"]


def issue(client, demo, service: str = "HT") -> dict:
    r = client.post("/api/v1/tickets", json={"service": service}, headers=demo.kiosk)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def subscribe(client, ticket: dict, subscription: dict):
    return client.post(f"/api/v1/public/tickets/{ticket['public_id']}/push", json=subscription)


def rows(app, ticket_id: int | None = None) -> list[PushSubscription]:
    with app.extensions["motcua"].db.read() as s:
        q = select(PushSubscription).order_by(PushSubscription.id)
        return list(s.scalars(q if ticket_id is None else q.where(PushSubscription.ticket_id == ticket_id)))


class Note:
    """An outbox row as the push channel reads it."""

    def __init__(self, ticket_id: int, event: str, code: str, counter: int | None = None, ahead: int | None = None) -> None:
        ticket = {"code": code, "service": "Hộ tịch"} | ({"counter": counter} if counter is not None else {})
        self.ticket_id, self.event, self.body = ticket_id, event, {"office": "demo", "ticket": ticket} | ({"ahead": ahead} if ahead is not None else {})


def test_a_message_reaches_the_browser_encrypted_and_signed(push_app, service) -> None:
    app, demo = push_app
    client = app.test_client()
    key = client.get("/api/v1/public/push/key").get_json()["key"]
    ticket = issue(client, demo)
    browser = service.subscribe(server_key=key)
    assert subscribe(client, ticket, browser).status_code == 201
    [row] = rows(app, ticket["id"])
    assert (row.endpoint, row.p256dh, row.auth) == (browser["endpoint"], browser["keys"]["p256dh"], browser["keys"]["auth"])

    channel = push.PushChannel(app)
    assert channel.wants("near") and channel.wants("called") and not channel.wants("booked")
    unsubscribed = issue(client, demo)
    with app.extensions["motcua"].db.read() as s:  # only tickets with a subscription get messages queued
        assert channel.reachable(s, [ticket["id"], unsubscribed["id"]]) == {ticket["id"]}
    channel.deliver(Note(ticket["id"], "near", code=ticket["code"], ahead=2), None)
    near = service.wait()
    assert near.message == {"event": "near", "code": "A001", "ahead": 2, "text_vi": "Còn 2 người trước bạn (số A001)",
                            "text_en": "2 people ahead of you (number A001)", "url": f"/t/{ticket['public_id']}"}
    assert near.vapid_key == key and near.claims["sub"].startswith("mailto:")
    assert near.headers["urgency"] == "normal" and int(near.headers["ttl"]) > 0

    channel.deliver(Note(ticket["id"], "called", code=ticket["code"], counter=3), None)
    called = service.wait()
    assert called.message == push.payload("called", "A001", ticket["public_id"], counter=3)
    assert called.message["text_vi"] == "Mời bạn đến quầy số 3" and called.message["counter"] == 3
    assert called.headers["urgency"] == "high"
    # Another message for the same ticket replaces one the phone has not fetched yet.
    assert called.headers["topic"] == near.headers["topic"]


def test_the_vapid_key_is_made_once_and_kept_private(push_app, make_app, push_config) -> None:
    app, _ = push_app
    instance = app.extensions["motcua"].instance
    assert not (instance / "vapid").exists()  # nothing until push is used
    key = app.test_client().get("/api/v1/public/push/key").get_json()["key"]
    pem = instance / "vapid" / "private.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert len(push.b64url_decode(key)) == 65 and push.b64url_decode(key)[0] == 4  # an uncompressed P-256 point
    # Another process (another app on the same instance folder) signs with the same key.
    assert push.Pusher(app.extensions["motcua"].db, instance, [], "mailto:x@y.z").public_key == key


def test_a_gone_browser_is_dropped_and_a_busy_service_retried(push_app, service) -> None:
    app, demo = push_app
    client = app.test_client()
    key = client.get("/api/v1/public/push/key").get_json()["key"]
    ticket = issue(client, demo)
    gone, busy = service.subscribe(key), service.subscribe(key)
    assert subscribe(client, ticket, gone).status_code == 201 and subscribe(client, ticket, busy).status_code == 201
    service.answer(gone, 410)
    service.answer(busy, 503)
    pusher = push.pusher(app)
    by_endpoint = {r.endpoint: r for r in rows(app, ticket["id"])}
    message = push.payload("near", ticket["code"], ticket["public_id"], ahead=5)

    with pytest.raises(push.Drop):
        pusher.deliver(by_endpoint[gone["endpoint"]], message)
    assert [r.endpoint for r in rows(app, ticket["id"])] == [busy["endpoint"]]  # 410: the subscription is deleted
    with pytest.raises(push.Retry):
        pusher.deliver(by_endpoint[busy["endpoint"]], message)
    service.answer(busy, 429)
    with pytest.raises(push.Retry):  # the whole ticket: nobody took it, one may later
        pusher.deliver_to_ticket(ticket["id"], message)
    assert len(rows(app, ticket["id"])) == 1  # kept for the retry

    # A push service that does not answer at all: retried too.
    dead = push.PushSubscription(id=0, ticket_id=ticket["id"], endpoint="http://127.0.0.1:9/gone", p256dh=busy["keys"]["p256dh"], auth=busy["keys"]["auth"])
    dead_pusher = push.Pusher(pusher.db, app.extensions["motcua"].instance, ["http://127.0.0.1:9"], "mailto:x@y.z")
    with pytest.raises(push.Retry):
        dead_pusher.deliver(dead, message)
    assert not service.messages_for(gone) and not service.messages_for(busy)


@pytest.mark.parametrize("endpoint", [
    "https://evil.example.com/wpush/abc",
    "https://fcm.googleapis.com.evil.example/wpush/abc",  # the allowed name as a prefix
    "https://evil.example/fcm.googleapis.com/abc",
    "http://fcm.googleapis.com/fcm/send/abc",  # https only
    "https://fcm.googleapis.com:8443/fcm/send/abc",  # another port
    "https://fcm.googleapis.com@169.254.169.254/latest/meta-data",
    "https://notify.windows.com/w/abc",  # "*." covers subdomains only
    "http://127.0.0.1:6379/",  # loopback, but not the push service the list names
    "http://[::1]/x",
    "file:///etc/passwd",
    "https://fcm.googleapis.com\\@evil.example/x",
])
def test_endpoints_outside_the_allow_list_are_refused(push_app, service, endpoint: str) -> None:
    app, demo = push_app
    client = app.test_client()
    ticket = issue(client, demo)
    browser = service.subscribe()
    err = error_of(subscribe(client, ticket, {**browser, "endpoint": endpoint}), 422)
    assert err["code"] == "bad_subscription"
    assert rows(app) == []


def test_the_vendors_push_services_are_admitted_by_default() -> None:
    for endpoint in ("https://fcm.googleapis.com/fcm/send/dW5pY29ybg:APA91b", "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
                     "https://web.push.apple.com/QGc2ZjM", "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA"):
        push.check_endpoint(endpoint, list(PUSH_SERVICES))
    with pytest.raises(QueueError):
        push.check_endpoint("https://push.example.net/x", list(PUSH_SERVICES))


def test_the_allow_list_takes_only_origins(tmp_path) -> None:
    for entry in ("http://10.0.0.5:8080", "https://push.example.com/path", "ftp://push.example.com", "https://*"):
        bad = tmp_path / "bad.toml"
        bad.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("[server]\n", f'[server]\npush_services = ["{entry}"]\n', 1), encoding="utf-8")
        with pytest.raises(ConfigError, match="push_services"):
            load_config(bad)


def test_bad_keys_and_closed_tickets_are_refused(push_app, service) -> None:
    app, demo = push_app
    client = app.test_client()
    ticket = issue(client, demo)
    browser = service.subscribe()
    not_a_point = {**browser, "keys": {**browser["keys"], "p256dh": "A" + browser["keys"]["p256dh"][1:]}}  # not a point on the curve
    assert error_of(subscribe(client, ticket, not_a_point), 422)["code"] == "bad_subscription"
    short_auth = {**browser, "keys": {**browser["keys"], "auth": "AAAAAAAAAAAAAAAAAAAAAAAA"}}  # 18 bytes
    assert error_of(subscribe(client, ticket, short_auth), 422)["code"] == "bad_subscription"
    assert error_of(subscribe(client, ticket, {"endpoint": browser["endpoint"]}), 422)["code"] == "invalid_body"
    assert error_of(client.post("/api/v1/public/tickets/nosuchticketnosuchticket/push", json=browser), 404)
    assert client.post(f"/api/v1/tickets/{ticket['public_id']}/cancel", json={}).status_code == 200
    assert error_of(subscribe(client, ticket, browser), 409)["code"] == "ticket_closed"
    # An earlier day's ticket still waiting (the day end has not run yet) is over too.
    old = Driver(app.extensions["motcua"].db).issue("HT", now=datetime(2026, 11, 23, 9, 0, tzinfo=HCM))
    assert error_of(subscribe(client, {"public_id": old.public_id}, browser), 409)["code"] == "ticket_closed"
    assert rows(app) == []


def test_subscribing_again_unsubscribing_and_the_cap_per_ticket(push_app, service) -> None:
    app, demo = push_app
    client = app.test_client()
    ticket = issue(client, demo)
    browser = service.subscribe()
    assert subscribe(client, ticket, browser).status_code == 201
    assert subscribe(client, ticket, browser).status_code == 201  # the page asked again: still one
    assert len(rows(app, ticket["id"])) == 1
    r = client.delete(f"/api/v1/public/tickets/{ticket['public_id']}/push", json={"endpoint": browser["endpoint"]})
    assert r.status_code == 204 and rows(app) == []
    for _ in range(push.MAX_PER_TICKET):
        assert subscribe(client, ticket, service.subscribe()).status_code == 201
    assert error_of(subscribe(client, ticket, service.subscribe()), 409)["code"] == "too_many_subscriptions"


def test_subscriptions_end_with_their_ticket(push_app, service) -> None:
    app, demo = push_app
    client = app.test_client()
    served, cancelled, no_show, waiting = (issue(client, demo) for _ in range(4))
    for t in (served, cancelled, no_show, waiting):
        assert subscribe(client, t, service.subscribe()).status_code == 201
    h = demo.clerk(1).headers
    assert client.post("/api/v1/counters/1/next", headers=h).get_json()["ticket"]["id"] == served["id"]
    assert len(rows(app, served["id"])) == 1  # called: still wanted ("called" goes out now)
    client.post("/api/v1/counters/1/start", headers=h)
    client.post("/api/v1/counters/1/finish", headers=h)
    client.post(f"/api/v1/tickets/{cancelled['public_id']}/cancel", json={})
    assert client.post("/api/v1/counters/1/next", headers=h).get_json()["ticket"]["id"] == no_show["id"]
    with app.extensions["motcua"].db.write() as s:  # the no-show's minimum wait has passed
        from motcua.models import TicketLeg

        leg = s.scalars(select(TicketLeg).where(TicketLeg.ticket_id == no_show["id"])).one()
        leg.called_at -= timedelta(minutes=5)
    assert client.post("/api/v1/counters/1/no-show", headers=h).status_code == 200
    assert [r.ticket_id for r in rows(app)] == [waiting["id"]]


def test_the_day_end_clears_what_earlier_days_left(push_app) -> None:
    app, _ = push_app
    db = app.extensions["motcua"].db
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=HCM)
    d = Driver(db)
    done, left_waiting = d.issue("HT", now=monday), d.issue("HT", now=monday)
    d.serve(1, now=monday + timedelta(minutes=1))
    with db.write() as s:
        for t in (left_waiting, done):  # `done` ended without its row going: whatever left it, the day end clears it
            s.add(PushSubscription(ticket_id=t.id, endpoint=f"https://fcm.googleapis.com/fcm/send/{t.id}", p256dh="x", auth="y", created_at=monday))
    with db.read() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
        assert s.get(Ticket, done.id).status.value == "done"
    result = dayend.close_day(db, office_id, now=datetime(2026, 11, 24, 0, 7, tzinfo=HCM))
    assert result.tickets_closed == 1
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(PushSubscription)) == 0


def test_subscribing_is_rate_limited_per_address(make_app, push_config, service, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_PUSH_LIMIT_ADDRESS", "3/minute")
    app, demos = make_app(config=push_config)
    client = app.test_client()
    ticket = issue(client, demos["demo"])
    for _ in range(3):
        assert subscribe(client, ticket, service.subscribe()).status_code == 201
    assert error_of(subscribe(client, ticket, service.subscribe()), 429)["code"] == "too_many_requests"


def test_an_empty_allow_list_turns_push_off(make_app, tmp_path) -> None:
    from motcua import notify

    config = tmp_path / "nopush.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("[server]\n", "[server]\npush_services = []\n", 1), encoding="utf-8")
    app, demos = make_app(config=config)
    client = app.test_client()
    ticket = issue(client, demos["demo"])
    assert "push" not in [c.name for c in notify.channels_for(app, "demo")]
    html = client.get(f"/t/{ticket['public_id']}").get_data(as_text=True)
    assert '"push_key"' not in html and '"service_worker"' not in html  # the page's script then shows no button
