"""Every manager, report and configuration endpoint refuses clerks, devices and anonymous
requests. The routes are read from the app's URL map, so a new route is covered at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from motcua.models import AuditLog
from tests.support.demo import login

BLUEPRINTS = ("manager.", "manager_config.", "reports_api.")
JSON_PREFIXES = ("/api/", "/manager/api/")


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of this room, with 1 for every path argument."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(BLUEPRINTS) or rule.endpoint.endswith(".static"):
            continue
        url = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


@pytest.fixture
def manager_app(app):
    # The role check must answer, not the CSRF check that runs first on a POST without a token.
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def audit_rows(app) -> int:
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditLog))


def call(client, method: str, url: str, headers: dict | None = None):
    return client.open(url, method=method, headers=headers or {}, data={} if method == "POST" else None)


def test_the_room_has_routes(manager_app) -> None:
    found = {e for e, _, _ in routes(manager_app)}
    # The enumeration sees pages, configuration and both JSON APIs.
    assert {"manager.dashboard_page", "manager.today_json", "manager.report_page", "manager_config.field_edit",
            "manager_config.device_revoke", "reports_api.summary", "reports_api.tickets"} <= found
    assert len(routes(manager_app)) >= 40


def test_anonymous_is_refused(manager_app) -> None:
    client = manager_app.test_client()
    for endpoint, method, url in routes(manager_app):
        r = call(client, method, url)
        if url.startswith(JSON_PREFIXES):
            assert r.status_code == 401, (endpoint, method, r.status_code)
            assert r.get_json()["error"]["code"] == "unauthorized"
        else:
            assert r.status_code == 302 and "/login" in r.headers["Location"], (endpoint, method, r.status_code)
    assert audit_rows(manager_app) == 0


def test_clerk_is_refused(manager_app, demo) -> None:
    client = manager_app.test_client()
    login(client, demo.clerk(1))
    for endpoint, method, url in routes(manager_app):
        r = call(client, method, url)
        assert r.status_code == 403, (endpoint, method, r.status_code)
        if url.startswith(JSON_PREFIXES):
            assert r.get_json()["error"]["code"] == "forbidden"
    # A clerk's API token is no better than the session.
    for endpoint, method, url in routes(manager_app):
        if url.startswith(JSON_PREFIXES):
            assert call(manager_app.test_client(), method, url, demo.clerk(1).headers).status_code == 403, endpoint
    assert audit_rows(manager_app) == 0


@pytest.mark.parametrize("device", ["Kiosk sảnh", "Màn hình sảnh", "Màn hình quầy 1", "Đánh giá quầy 1"])
def test_device_tokens_are_refused(manager_app, demo, device) -> None:
    client = manager_app.test_client()
    headers = demo.device_headers(device)
    for endpoint, method, url in routes(manager_app):
        r = call(client, method, url, headers)
        if url.startswith(JSON_PREFIXES):
            assert r.status_code == 403, (endpoint, method, r.status_code)
        else:  # pages know only staff sessions: a device is sent to sign in
            assert r.status_code == 302 and "/login" in r.headers["Location"], (endpoint, method, r.status_code)
    assert audit_rows(manager_app) == 0


def test_managers_and_admins_get_every_page(manager_app, demo) -> None:
    """The positive control: the same enumeration answers 200 to the office's admin."""
    client = manager_app.test_client()
    login(client, demo.admin)
    for endpoint, method, url in routes(manager_app):
        if method != "GET" or endpoint.endswith("export.xlsx"):
            continue
        r = client.get(url)
        assert r.status_code == 200, (endpoint, url, r.status_code)
    manager = manager_app.test_client()
    login(manager, demo.manager)
    assert manager.get("/manager/").status_code == 200
    assert manager.get("/api/v1/reports/summary", headers=demo.manager.headers).status_code == 200
    # A manager does not edit the admin (user 1).
    assert manager.get("/manager/config/users/1").status_code == 403


def test_a_manager_sees_only_their_office(make_app) -> None:
    from tests.support.env import TWO_OFFICES

    app, demos = make_app(config=TWO_OFFICES)
    a, b = demos["phuong-a"], demos["xa-b"]
    client = app.test_client()
    login(client, a.manager)
    assert client.get("/manager/reports?office=xa-b").status_code == 404
    assert client.get("/manager/config/fields?office=xa-b").status_code == 404
    r = client.get("/api/v1/reports/summary?office=xa-b", headers=a.manager.headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_office"
    assert client.get("/manager/api/today?office=xa-b").status_code == 404
    # Another office's objects are not reachable by id either.
    with app.extensions["motcua"].db.read() as s:
        from motcua.models import Office, Service

        b_service = s.scalar(select(Service.id).join(Office).where(Office.code == "xa-b"))
    assert client.get(f"/manager/config/fields/{b_service}").status_code == 404
    assert b.manager.username != a.manager.username
