"""The /api/v1 routes through Flask's test client: happy paths, and every error path answering
with {"error": {code, message, message_en}} and the right status — never a 500."""

from __future__ import annotations

import pytest

from tests.support.api import error_of
from tests.support.demo import Demo, login


def issue(client, demo: Demo, service: str = "HT", **body):
    return client.post("/api/v1/tickets", json={"service": service, **body}, headers=demo.kiosk)


def test_services_lists_fields_with_waiting_and_estimate(client, demo: Demo) -> None:
    issue(client, demo, "HT")
    body = client.get("/api/v1/services").get_json()
    assert body["office"] == "demo"
    ht = next(s for s in body["services"] if s["code"] == "HT")
    assert ht["name"] == "Hộ tịch" and ht["waiting"] == 1 and ht["open"] is True
    assert ht["eta_minutes"] is None and ht["eta_text"] == "Không xác định"  # no counter open yet
    assert [g["code"] for g in body["priority_groups"]][:2] == ["elderly", "disability"]


def test_issue_returns_the_documented_fields(client, demo: Demo) -> None:
    r = issue(client, demo, "CT", priority="pregnant", idempotency_key="kiosk-tap-0001")
    assert r.status_code == 201
    t = r.get_json()
    assert {"id", "public_id", "code", "number", "service", "priority", "issued_at", "waiting_ahead", "eta_minutes", "status_url"} <= set(t)
    assert t["code"] == "B001" and t["priority"] == "pregnant" and t["status_url"].endswith("/t/" + t["public_id"])
    assert len(t["public_id"]) >= 20  # 128 random bits
    again = issue(client, demo, "CT", priority="pregnant", idempotency_key="kiosk-tap-0001")
    assert again.status_code == 200 and again.get_json()["id"] == t["id"]


def test_ticket_status_is_public_and_cancellable(client, demo: Demo) -> None:
    t = issue(client, demo).get_json()
    st = client.get(f"/api/v1/tickets/{t['public_id']}").get_json()
    assert st["code"] == t["code"] and st["position"] == 1 and st["status"] == "waiting"
    assert client.post(f"/api/v1/tickets/{t['public_id']}/cancel", json={}).get_json()["status"] == "cancelled"
    err = error_of(client.post(f"/api/v1/tickets/{t['public_id']}/cancel", json={}), 409)
    assert err["code"] == "ticket_closed"


def test_counter_flow_through_the_api(client, demo: Demo) -> None:
    t = issue(client, demo).get_json()
    h = demo.clerk(1).headers
    r = client.post("/api/v1/counters/1/next", headers=h).get_json()
    assert r["ticket"]["code"] == t["code"] and r["counter"]["status"] == "open"
    assert client.post("/api/v1/counters/1/recall", headers=h).get_json()["ticket"]["recalls"] == 1
    assert client.post("/api/v1/counters/1/start", headers=h).get_json()["ticket"]["status"] == "serving"
    assert client.post("/api/v1/counters/1/finish", headers=h).get_json()["ticket"]["status"] == "done"
    assert client.post("/api/v1/counters/1/next", headers=h).get_json() == {"ticket": None, "counter": client.get("/api/v1/queue", headers=h).get_json()["counters"][0]}
    snap = client.get("/api/v1/queue", headers=h).get_json()
    assert snap["seq"] > 0 and snap["recent_calls"][0]["code"] == t["code"]
    assert client.post("/api/v1/counters/1/pause", json={"reason": "Nghỉ trưa"}, headers=h).get_json()["counter"]["status"] == "paused"
    assert client.post("/api/v1/counters/1/resume", headers=h).get_json()["counter"]["status"] == "open"


def test_transfer_and_call_by_number(client, demo: Demo) -> None:
    issue(client, demo, "CT")
    late = issue(client, demo, "CT").get_json()
    h3 = demo.clerk(3).headers
    issue(client, demo, "DD")
    client.post("/api/v1/counters/3/next", headers=h3)
    r = client.post("/api/v1/counters/3/transfer", json={"service": "CT", "position": "front"}, headers=h3).get_json()
    assert r["ticket"]["service"] == "CT" and r["ticket"]["status"] == "waiting" and r["counter"]["ticket"] is None
    h2 = demo.clerk(2).headers
    r = client.post("/api/v1/counters/2/call", json={"code": late["code"], "reason": "Hồ sơ bổ sung"}, headers=h2).get_json()
    assert r["ticket"]["code"] == late["code"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_body"),
        ({"service": ""}, 422, "invalid_body"),
        ({"service": "HT", "extra": 1}, 422, "invalid_body"),
        ({"service": "HT", "idempotency_key": "short"}, 422, "invalid_body"),
        ({"service": "HT", "idempotency_key": "bad key with spaces"}, 422, "invalid_body"),
        ({"service": 12}, 422, "invalid_body"),
        ({"service": "ZZ"}, 404, "unknown_service"),
        ({"service": "HT", "priority": "vip"}, 422, "unknown_priority"),
        ({"service": "HT", "office": "khac"}, 404, "unknown_office"),
    ],
)
def test_issue_errors(client, demo: Demo, body: dict, status: int, code: str) -> None:
    assert error_of(client.post("/api/v1/tickets", json=body, headers=demo.kiosk), status)["code"] == code


def test_malformed_requests(client, demo: Demo) -> None:
    h = demo.kiosk
    assert error_of(client.post("/api/v1/tickets", data="{not json", headers={**h, "Content-Type": "application/json"}), 400)["code"] == "bad_json"
    assert error_of(client.post("/api/v1/tickets", data="service=HT", headers={**h, "Content-Type": "application/x-www-form-urlencoded"}), 415)["code"] == "unsupported_media_type"
    assert error_of(client.post("/api/v1/tickets", json=["HT"], headers=h), 400)["code"] == "bad_json"
    assert error_of(client.get("/api/v1/tickets", headers=h), 405)
    assert error_of(client.get("/api/v1/nothing-here"), 404)
    assert error_of(client.get("/api/v1/tickets/not-a-real-id"), 404)["code"] == "unknown_ticket"
    assert error_of(client.post("/api/v1/counters/99/next", headers=demo.clerk(1).headers), 404)["code"] == "unknown_counter"


def test_who_may_do_what(client, demo: Demo) -> None:
    assert error_of(client.post("/api/v1/tickets", json={"service": "HT"}), 401)["code"] == "unauthorized"
    bad = {"Authorization": "Bearer dev_not-a-token"}
    assert error_of(client.post("/api/v1/tickets", json={"service": "HT"}, headers=bad), 401)["code"] == "bad_token"
    display = demo.device_headers("Màn hình sảnh")
    assert error_of(client.post("/api/v1/tickets", json={"service": "HT"}, headers=display), 403)["code"] == "forbidden"
    assert error_of(client.post("/api/v1/counters/1/next", headers=demo.kiosk), 403)
    assert error_of(client.post("/api/v1/counters/1/next"), 401)
    assert error_of(client.get("/api/v1/queue"), 401)
    assert client.get("/api/v1/queue", headers=display).status_code == 200
    # A clerk works only at their own counter; a manager may act anywhere in the office.
    assert error_of(client.post("/api/v1/counters/2/next", headers=demo.clerk(1).headers), 403)["code"] == "not_your_counter"
    assert client.post("/api/v1/counters/2/open", headers=demo.manager.headers).status_code == 200
    # Staff may issue tickets too (e.g. at the reception desk).
    assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.clerk(1).headers).status_code == 201


def test_counter_state_errors(client, demo: Demo) -> None:
    h = demo.clerk(1).headers
    client.post("/api/v1/counters/1/open", headers=h)
    for action in ("recall", "start", "finish", "no-show"):
        assert error_of(client.post(f"/api/v1/counters/1/{action}", headers=h), 409)["code"] == "no_current_ticket"
    assert error_of(client.post("/api/v1/counters/1/resume", headers=h), 409)["code"] == "not_paused"
    assert error_of(client.post("/api/v1/counters/1/pause", json={"reason": ""}, headers=h), 422)["code"] == "invalid_body"
    assert error_of(client.post("/api/v1/counters/1/call", json={"code": "A999", "reason": "x"}, headers=h), 404)["code"] == "unknown_ticket"
    assert error_of(client.post("/api/v1/counters/1/transfer", json={"service": "HT", "position": "middle"}, headers=h), 422)["code"] == "invalid_body"
    issue(client, demo)
    client.post("/api/v1/counters/1/next", headers=h)
    assert error_of(client.post("/api/v1/counters/1/finish", headers=h), 409)["code"] == "wrong_state"
    assert error_of(client.post("/api/v1/counters/1/transfer", json={"service": "NOPE"}, headers=h), 404)["code"] == "unknown_service"


def test_session_requests_need_the_csrf_token(client, demo: Demo) -> None:
    token = login(client, demo.clerk(1))
    assert error_of(client.post("/api/v1/counters/1/open"), 400)["code"] == "csrf"
    assert client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": token}).status_code == 200


def test_wrong_password_is_refused_in_both_languages(client, demo: Demo) -> None:
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": demo.manager.username, "password": "x"}).status_code == 400  # no CSRF token
    r = client.post("/login", data={"username": demo.manager.username, "password": "sai-mat-khau", "csrf_token": csrf})
    assert r.status_code == 401
    text = r.get_data(as_text=True)
    assert "Sai tên đăng nhập hoặc mật khẩu" in text and "Wrong username or password" in text


def test_openapi_document_lists_every_route(app, client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "/api/v1"}]
    documented = {(m.upper(), "/api/v1" + p) for p, ops in doc["paths"].items() for m in ops}
    import re

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in documented, f"{method} {path} is not in the OpenAPI document"
    schemas = doc["components"]["schemas"]
    assert {"IssueTicket", "IssuedTicket", "ErrorBody", "QueueOut"} <= set(schemas)


def test_sign_in_is_throttled_after_repeated_failures(client, demo: Demo) -> None:
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    target = demo.manager
    codes = [client.post("/login", data={"username": target.username, "password": f"sai-{i}", "csrf_token": csrf}).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    # Even the right password is refused for now; another user at the same address is not.
    assert client.post("/login", data={"username": target.username, "password": target.password, "csrf_token": csrf}).status_code == 429
    assert client.post("/login", data={"username": demo.admin.username, "password": demo.admin.password, "csrf_token": csrf}).status_code == 302
