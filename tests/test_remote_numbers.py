"""Remote numbers from a phone: POST /api/v1/public/tickets against the office's settings, the
quota and the field's remote share (threads on SQLite and PostgreSQL), the per-phone limit, the
masked phone, the rate limits, and a number never called out of its place."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from motcua.models import Ticket
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
REMOTE = REPO / "tests" / "data" / "remote.toml"
URL = "/api/v1/public/tickets"


def phone(i: int) -> str:
    return f"0912 345 {i:03d}"


def take(client, service: str = "HT", **body):
    return client.post(URL, json={"office": "demo", "service": service, **body})


@pytest.fixture
def remote_app(make_app):
    app, demos = make_app(config=REMOTE)
    with time_machine.travel(MONDAY, tick=False):
        yield app, demos["demo"]


def test_remote_number_is_the_kiosk_ticket_marked_remote(remote_app) -> None:
    app, demo = remote_app
    client = app.test_client()
    r = take(client, phone="+84 912 345 123")
    assert r.status_code == 201, r.json
    t = r.json
    assert t["code"] == "A001" and t["source"] == "remote" and t["phone_mask"] == "09xx xxx 123"
    assert t["status_url"].endswith(f"/t/{t['public_id']}") and t["print_job"] is None and t["check_in_code"] is None
    # A kiosk ticket next: same series, next number, marked kiosk.
    k = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    assert k.json["code"] == "A002"
    status = client.get(f"/api/v1/tickets/{t['public_id']}").json
    assert status["source"] == "remote" and status["phone_mask"] == "09xx xxx 123" and status["position"] == 1
    assert client.get(f"/api/v1/tickets/{k.json['public_id']}").json["source"] == "kiosk"
    # The status page says it was taken from a phone.
    page = client.get(f"/t/{t['public_id']}").get_data(as_text=True)
    assert "Lấy số từ xa" in page and "09xx xxx 123" in page
    # The counter calls it like any other.
    call = client.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers)
    assert call.json["ticket"]["code"] == "A001"


def test_refusals_have_the_api_shape_and_codes(remote_app, tmp_path, make_app) -> None:
    app, _ = remote_app
    client = app.test_client()
    cases = [
        ({"service": "HT", "phone": phone(1), "priority": "elderly"}, 422, "priority_not_remote"),
        ({"service": "DD", "phone": phone(1)}, 403, "remote_closed"),
        ({"service": "HT"}, 422, "phone_required"),
        ({"service": "HT", "phone": "12345"}, 422, "bad_phone"),
        ({"service": "XX", "phone": phone(1)}, 404, "unknown_service"),
        ({"service": "HT", "phone": phone(1), "office": "nowhere"}, 404, "unknown_office"),
    ]
    for body, status, code in cases:
        r = client.post(URL, json={"office": "demo", **body})
        assert r.status_code == status and r.json["error"]["code"] == code, (body, r.json)
        assert r.json["error"]["message"] and r.json["error"]["message_en"]
    with time_machine.travel(datetime(2026, 9, 7, 18, 0, tzinfo=HCM), tick=False):
        r = take(client, phone=phone(1))
        assert r.status_code == 403 and r.json["error"]["code"] == "outside_window"
    with app.extensions["motcua"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
    # An office that has not turned remote numbers on.
    closed = tmp_path / "closed.toml"
    closed.write_text(REMOTE.read_text(encoding="utf-8").replace("remote_enabled = true", "remote_enabled = false"), encoding="utf-8")
    other, _ = make_app(config=closed)
    r = take(other.test_client(), phone=phone(1))
    assert r.status_code == 403 and r.json["error"]["code"] == "remote_closed"


def test_per_phone_limit_counts_the_day_not_cancelled_ones(remote_app) -> None:
    app, _ = remote_app
    client = app.test_client()
    first = take(client, phone="0912345678")
    assert first.status_code == 201
    again = take(client, "CT", phone="0912.345.678")  # another field, the same phone written differently
    assert again.status_code == 409 and again.json["error"]["code"] == "remote_limit"
    assert again.json["error"]["details"] == {"limit": "phone"}
    assert take(client, "CT", phone="0912345679").status_code == 201
    # Cancelled from its status page: the phone may take another.
    assert client.post(f"/api/v1/tickets/{first.json['public_id']}/cancel", json={}).status_code == 200
    assert take(client, "CT", phone="0912345678").status_code == 201


def test_share_and_quota(remote_app) -> None:
    app, demo = remote_app
    client = app.test_client()
    # HT: quota 20, remote share 50 % -> 10 remote numbers.
    for i in range(10):
        assert take(client, phone=phone(i)).status_code == 201
    r = take(client, phone=phone(10))
    assert r.status_code == 409 and r.json["error"]["code"] == "remote_limit" and r.json["error"]["details"] == {"limit": "share"}
    fields = {f["code"]: f for f in client.get("/api/v1/public/offices/demo").json["services"]}
    assert fields["HT"]["remote_open"] is False and fields["HT"]["remote_closed_reason"]["code"] == "remote_limit"
    assert fields["CT"]["remote_open"] is True and fields["DD"]["remote_closed_reason"]["code"] == "remote_closed"
    # The kiosk still has the other half of the quota; the number refused remotely was rolled back.
    codes = [client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).json.get("code") for _ in range(11)]
    assert codes[0] == "A011" and codes[9] == "A020" and codes[10] is None
    r = take(client, phone=phone(11))
    assert r.status_code in (409, 403) and r.json["error"]["code"] in ("quota_reached", "remote_limit")


def _race(app, threads: int, each: int) -> list[int]:
    """`threads` phones at once, each asking `each` times for HT; the status codes."""
    client_lock = threading.Lock()
    statuses: list[int] = []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        for j in range(each):
            r = take(client, phone=phone(n * each + j))
            with client_lock:
                statuses.append(r.status_code)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return statuses


def _assert_never_over_the_share(app, statuses: list[int]) -> None:
    assert statuses.count(201) == 10 and statuses.count(409) == len(statuses) - 10, statuses
    with app.extensions["motcua"].db.read() as s:
        numbers = sorted(s.scalars(select(Ticket.number).where(Ticket.source == "remote")))
    assert numbers == list(range(1, 11))  # gap-free: every refusal rolled its number back


def test_threads_never_take_more_than_the_share_on_sqlite(remote_app) -> None:
    app, _ = remote_app
    _assert_never_over_the_share(app, _race(app, 8, 4))


def test_threads_never_take_more_than_the_share_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(config=REMOTE, database_url=pg_url)
    with time_machine.travel(MONDAY, tick=False):
        _assert_never_over_the_share(app, _race(app, 8, 4))


def test_one_phone_from_threads_gets_one_number_on_postgresql(pg_url: str, make_app) -> None:
    app, _ = make_app(config=REMOTE, database_url=pg_url)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def worker(service: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(take(client, service, phone="0987654321").status_code)

    with time_machine.travel(MONDAY, tick=False):
        pool = [threading.Thread(target=worker, args=("HT" if i % 2 else "CT",)) for i in range(6)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]


def test_rate_limits_per_address_and_per_phone(make_app, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_REMOTE_LIMIT_PHONE", "2/hour")
    monkeypatch.setenv("MOTCUA_REMOTE_LIMIT_ADDRESS", "4/hour")
    app, _ = make_app(config=REMOTE)
    client = app.test_client()
    with time_machine.travel(MONDAY, tick=True):
        assert take(client, phone="0911111111").status_code == 201
        assert take(client, "CT", phone="0911 111 111").status_code == 409  # the day's limit
        r = take(client, "CT", phone="+84911111111")
        assert r.status_code == 429 and r.json["error"]["code"] == "too_many_requests"
        assert take(client, phone="0922222222").status_code == 201
        # A refusal for the phone spent none of the address's budget: four requests count, the fifth is refused.
        assert take(client, "CT", phone="0933333333").status_code == 201
        r = take(client, "CT", phone="0944444444")
        assert r.status_code == 429 and r.json["error"]["code"] == "too_many_requests"
