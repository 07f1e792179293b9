"""The counter room through Flask's test client: sign-in and landing page, CSRF on session POSTs
to the core API, clerks confined to their own counter, the waiting list and the device endpoint."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from motcua.models import Counter, CounterStatus, Device, DeviceKind, Office
from motcua.security import new_token, token_hash


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(client, staff, follow: bool = False):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "username": staff.username, "password": staff.password}, follow_redirects=follow)


def page_config(html: str) -> dict:
    m = re.search(r'<script id="counter-config" type="application/json">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


@pytest.fixture
def clerk1(app, demo):
    c = app.test_client()
    assert sign_in(c, demo.clerk(1)).status_code == 302
    return c


def issue(client, demo, service: str, priority: str | None = None) -> dict:
    r = client.post("/api/v1/tickets", json={"service": service, "priority": priority}, headers=demo.kiosk)
    assert r.status_code == 201, r.json
    return r.json


# ---- sign-in and the page -------------------------------------------------------------------


def test_page_needs_sign_in_and_a_clerk_lands_on_it(client, demo) -> None:
    r = client.get("/counter/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/counter/")
    r = sign_in(client, demo.clerk(2))
    assert (r.status_code, r.headers["Location"]) == (302, "/counter/")
    html = client.get("/counter/").get_data(as_text=True)
    for text in ("Gọi số tiếp theo", "Gọi lại", "Bắt đầu", "Kết thúc", "Vắng mặt", "Chuyển", "Gọi số", "Tạm dừng", "Tiếp tục",
                 "Phím tắt", "Danh sách chờ"):
        assert text in html
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    cfg = page_config(html)
    assert cfg["counter"] == 2 and cfg["user"]["counter"] == 2  # the clerk's assigned counter
    assert cfg["api"] == "/api/v1/counters/2/"
    assert [c["number"] for c in cfg["counters"]] == [1, 2, 3, 4]
    assert {s["code"] for s in cfg["services"]} == {"HT", "CT", "DD", "KD", "XH"}


def test_page_shows_the_chosen_counter_and_a_link_on_the_home_page(clerk1, client) -> None:
    assert page_config(clerk1.get("/counter/?n=3").get_data(as_text=True))["counter"] == 3
    assert page_config(clerk1.get("/counter/?n=99").get_data(as_text=True))["counter"] == 1
    assert 'href="/counter/"' in client.get("/").get_data(as_text=True)


def test_managers_and_admins_may_open_the_page(app, demo) -> None:
    for staff in (demo.manager, demo.admin):
        c = app.test_client()
        sign_in(c, staff)
        r = c.get("/counter/")
        assert r.status_code == 200
        assert page_config(r.get_data(as_text=True))["user"]["counter"] is None


def test_page_in_english(clerk1) -> None:
    html = clerk1.get("/counter/?lang=en").get_data(as_text=True)
    for text in ("Call next", "Recall", "Start", "Finish", "No-show", "Transfer", "Call a number", "Pause", "Resume", "Waiting list"):
        assert text in html, text


# ---- CSRF and who may act -------------------------------------------------------------------


def test_session_posts_to_the_api_need_the_csrf_header(clerk1) -> None:
    r = clerk1.post("/api/v1/counters/1/open")
    assert r.status_code == 400
    assert r.json["error"]["code"] == "csrf"
    assert r.json["error"]["message"].startswith("Phiên làm việc đã hết hạn")
    r = clerk1.post("/api/v1/counters/1/open", headers={"X-CSRFToken": "not-the-token"})
    assert r.status_code == 400
    token = csrf_from(clerk1.get("/counter/").get_data(as_text=True))
    r = clerk1.post("/api/v1/counters/1/open", headers={"X-CSRFToken": token})
    assert r.status_code == 200
    assert r.json["counter"]["status"] == "open" and r.json["counter"]["clerk"] == "Clerk1 demo"


def test_a_clerk_cannot_act_on_another_clerks_counter(app, demo, clerk1, db) -> None:
    token1 = csrf_from(clerk1.get("/counter/").get_data(as_text=True))
    assert clerk1.post("/api/v1/counters/1/open", headers={"X-CSRFToken": token1}).status_code == 200
    issue(clerk1, demo, "HT")
    clerk2 = app.test_client()
    sign_in(clerk2, demo.clerk(2))
    token2 = csrf_from(clerk2.get("/counter/").get_data(as_text=True))
    for action in ("next", "open", "pause", "close"):
        r = clerk2.post(f"/api/v1/counters/1/{action}", headers={"X-CSRFToken": token2}, json={"reason": "x"} if action == "pause" else None)
        assert r.status_code == 403, action
        assert r.json["error"]["code"] == "not_your_counter"
        assert r.json["error"]["message"] == "Bạn không phụ trách quầy 1."
    # Nobody holds counter 3 and it is not clerk 2's either: still not theirs.
    assert clerk2.post("/api/v1/counters/3/next", headers={"X-CSRFToken": token2}).status_code == 403
    # Their own counter works, and the ticket never went to counter 1's clerk's rival.
    r = clerk2.post("/api/v1/counters/2/next", headers={"X-CSRFToken": token2})
    assert r.status_code == 200 and r.json["ticket"]["code"] == "A001" and r.json["ticket"]["counter"] == 2
    with db.read() as s:
        c1 = s.scalar(select(Counter).where(Counter.number == 1))
        assert c1.status == CounterStatus.open and c1.current_ticket_id is None


def test_a_manager_may_act_on_any_counter_of_the_office(app, demo) -> None:
    m = app.test_client()
    sign_in(m, demo.manager)
    token = csrf_from(m.get("/counter/?n=4").get_data(as_text=True))
    assert m.post("/api/v1/counters/4/open", headers={"X-CSRFToken": token}).status_code == 200
    r = m.post("/api/v1/counters/4/pause", headers={"X-CSRFToken": token}, json={"reason": "Họp"})
    assert r.status_code == 200 and r.json["counter"]["pause_reason"] == "Họp"


# ---- the waiting list -----------------------------------------------------------------------


def test_waiting_list_per_field_with_priority_first_and_marked(clerk1, demo) -> None:
    issue(clerk1, demo, "HT")
    issue(clerk1, demo, "CT")
    issue(clerk1, demo, "HT", "elderly")
    issue(clerk1, demo, "HT")
    issue(clerk1, demo, "DD")  # counter 1 does not serve Đất đai
    r = clerk1.get("/counter/api/1/waiting")
    assert r.status_code == 200
    body = r.json
    assert [s["code"] for s in body["services"]] == ["HT", "CT"]  # the heavier field first
    ht, ct = body["services"]
    assert [t["code"] for t in ht["tickets"]] == ["A002", "A001", "A003"]
    assert (ht["waiting"], ht["priority"], ct["waiting"], body["total"]) == (3, 1, 1, 4)
    assert ht["tickets"][0]["priority"] == "elderly" and ht["tickets"][0]["priority_name"] == "Người cao tuổi (từ 60 tuổi)"
    assert ht["tickets"][1]["priority"] is None
    assert body["counter"] == {"number": 1, "name": "Quầy 1 — Hộ tịch", "status": "closed", "mine": False, "held": False}

    token = csrf_from(clerk1.get("/counter/").get_data(as_text=True))
    r = clerk1.post("/api/v1/counters/1/next", headers={"X-CSRFToken": token})
    assert r.json["ticket"]["code"] == "A002"
    r = clerk1.post("/api/v1/counters/1/transfer", headers={"X-CSRFToken": token}, json={"service": "CT", "position": "back"})
    assert r.status_code == 200
    body = clerk1.get("/counter/api/1/waiting").json
    ht, ct = body["services"]
    assert [t["code"] for t in ht["tickets"]] == ["A001", "A003"]
    # Sent to the back of Chứng thực, but a priority ticket is still listed (and called) first.
    assert [(t["code"], t["transferred"], t["priority"]) for t in ct["tickets"]] == [("A002", True, "elderly"), ("B001", False, None)]
    assert body["counter"]["mine"] is True and body["counter"]["held"] is True


def test_waiting_list_is_for_staff_of_the_same_office_only(make_app) -> None:
    from tests.support.env import TWO_OFFICES

    app, demos = make_app(config=TWO_OFFICES)
    a, b = demos["phuong-a"], demos["xa-b"]
    client = app.test_client()
    assert client.get("/counter/api/1/waiting").status_code == 401
    r = client.get("/counter/api/1/waiting", headers={"Authorization": f"Bearer {a.devices['Màn hình A']}"})
    assert (r.status_code, r.json["error"]["code"]) == (403, "forbidden")
    client.post("/api/v1/tickets", json={"service": "HT"}, headers=a.kiosk)
    assert [t["code"] for t in client.get("/counter/api/1/waiting", headers=a.clerk(1).headers).json["services"][0]["tickets"]] == ["A001"]
    assert client.get("/counter/api/1/waiting", headers=b.clerk(1).headers).json["total"] == 0  # B's own counter 1
    r = client.get("/counter/api/1/waiting?office=phuong-a", headers=b.clerk(1).headers)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_office")
    r = client.get("/counter/api/7/waiting", headers=a.clerk(1).headers)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_counter")
    assert r.json["error"]["message"] == "Không tìm thấy quầy số 7."


# ---- device pages ---------------------------------------------------------------------------


def test_device_pages_load_without_a_session_and_name_their_scripts(client) -> None:
    for path, script in (("/counter/rating", "rating.js"), ("/counter/display", "display.js")):
        r = client.get(path)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert f"/counter/static/{script}" in html and "socket.io.min.js" in html and 'id="screen-setup"' in html
        assert client.get(f"/counter/static/{script}").status_code == 200


def test_device_endpoint_tells_a_pad_its_counter_and_scale(client, demo, db) -> None:
    r = client.get("/counter/api/device", headers=demo.device_headers("Đánh giá quầy 1"))
    assert r.status_code == 200
    body = r.json
    assert body["counter"] == {"number": 1, "name": "Quầy 1 — Hộ tịch"}
    assert body["rating"]["scale"] == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
    assert (body["rating"]["seconds"], body["rating"]["low_count"], body["pending"]) == (30, 1, None)
    assert body["rating"]["reasons"][0] == {"vi": "Chờ đợi quá lâu", "en": "Waited too long"}
    r = client.get("/counter/api/device", headers=demo.device_headers("Màn hình quầy 1"))
    assert r.status_code == 200 and r.json["device"]["kind"] == "counter_display" and "rating" not in r.json
    assert client.get("/counter/api/device", headers=demo.device_headers("Màn hình sảnh")).status_code == 403
    r = client.get("/counter/api/device", headers={"Authorization": "Bearer dev_sai"})
    assert (r.status_code, r.json["error"]["code"]) == (401, "bad_token")
    with db.read() as s:
        assert s.scalar(select(Device.last_seen_at).where(Device.name == "Đánh giá quầy 1")) is not None


def test_device_endpoint_offers_a_rating_still_open(client, demo) -> None:
    r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    for step in ("next", "start"):
        client.post(f"/api/v1/counters/1/{step}", headers=demo.clerk(1).headers)
    pad = demo.device_headers("Đánh giá quầy 1")
    assert client.get("/counter/api/device", headers=pad).json["pending"] is None  # not finished yet
    client.post("/api/v1/counters/1/finish", headers=demo.clerk(1).headers)
    pending = client.get("/counter/api/device", headers=pad).json["pending"]
    assert pending["ticket"]["public_id"] == r.json["public_id"] and 0 < pending["seconds_left"] <= 30
    assert client.post("/api/v1/ratings", json={"ticket": r.json["public_id"], "score": 1}, headers=pad).status_code == 201
    assert client.get("/counter/api/device", headers=pad).json["pending"] is None


def test_device_endpoint_for_a_pad_without_counter(app, db) -> None:
    token = new_token("dev")
    with db.write() as s:
        office = s.scalar(select(Office))
        from motcua.engine import clock

        s.add(Device(office_id=office.id, name="pad chưa gắn", kind=DeviceKind.rating, token_hash=token_hash(token), created_at=clock.now()))
    r = app.test_client().get("/counter/api/device", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["counter"] is None and r.json["pending"] is None


def test_an_admin_of_every_office_picks_one_first(make_app) -> None:
    from motcua.engine import clock
    from motcua.models import Role, User
    from motcua.security import hash_password
    from tests.support.demo import Staff
    from tests.support.env import TWO_OFFICES

    app, _ = make_app(config=TWO_OFFICES)
    with app.extensions["motcua"].db.write() as s:
        s.add(User(username="tinh-admin", full_name="Quản trị tỉnh", role=Role.admin, office_id=None,
                   password_hash=hash_password("matkhau-tinh"), created_at=clock.now()))
    c = app.test_client()
    sign_in(c, Staff("tinh-admin", "matkhau-tinh", "", Role.admin))
    html = c.get("/counter/").get_data(as_text=True)
    assert "Chọn đơn vị" in html and "/counter/?office=xa-b" in html and "/counter/?office=phuong-a" in html
    html = c.get("/counter/?office=xa-b").get_data(as_text=True)
    cfg = page_config(html)
    assert cfg["office"]["code"] == "xa-b" and cfg["waiting_url"] == "/counter/api/1/waiting?office=xa-b"
    assert c.get("/counter/?office=nowhere").status_code == 404
