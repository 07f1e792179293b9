"""Configuration pages: changes apply at once (API, engine, live listeners), are validated with
config.toml's rules, and each leaves an audit row with who, when and before → after."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from motcua.engine import clock
from motcua.models import AuditLog, Counter, Device, Service, User
from motcua.realtime import get_socketio
from tests.support.demo import login
from tests.support.forms import FIELD_HT, manager_client, one, post
from tests.support.realtime import received

NEW_NAME = "Hộ tịch (khai sinh, kết hôn, khai tử)"


def audits(app) -> list[AuditLog]:
    with app.extensions["motcua"].db.read() as s:
        return list(s.scalars(select(AuditLog).order_by(AuditLog.id)))


def test_a_field_renamed_shows_at_once_everywhere_and_is_audited(app, demo) -> None:
    sio = get_socketio(app).test_client(app, namespace="/display", auth={"token": demo.devices["Màn hình sảnh"]})
    assert sio.is_connected("/display")
    sio.get_received("/display")  # the snapshot
    ht = one(app, Service, code="HT")
    client = manager_client(app, demo)
    r = post(client, f"/manager/config/fields/{ht.id}", {**FIELD_HT, "name": NEW_NAME})
    assert r.status_code == 302, r.get_data(as_text=True)

    services = {s["code"]: s for s in app.test_client().get("/api/v1/services").get_json()["services"]}
    assert services["HT"]["name"] == NEW_NAME
    change = received(sio, "config.updated")[0]
    assert change["entity"] == "service" and change["service"]["name"] == NEW_NAME

    [row] = audits(app)
    manager = one(app, User, username=demo.manager.username)
    assert (row.entity, row.entity_id, row.action, row.user_id) == ("service", "HT", "update", manager.id)
    assert row.changes == {"name": ["Hộ tịch", NEW_NAME]}
    assert abs((clock.now() - row.at).total_seconds()) < 60
    page = client.get("/manager/config/audit").get_data(as_text=True)
    assert NEW_NAME in page and "Manager demo" in page

    # Saving the same values again changes nothing and logs nothing.
    assert post(client, f"/manager/config/fields/{ht.id}", {**FIELD_HT, "name": NEW_NAME}).status_code == 302
    assert len(audits(app)) == 1
    sio.disconnect("/display")


def test_invalid_input_is_refused_with_the_config_rules(app, demo) -> None:
    client = manager_client(app, demo)
    ht = one(app, Service, code="HT")
    r = post(client, f"/manager/config/fields/{ht.id}", {**FIELD_HT, "prefix": "a1"})
    assert r.status_code == 422
    assert "field-error" in r.get_data(as_text=True)
    # Two fields may not share a series (prefix + start), as in config.toml.
    r = post(client, f"/manager/config/fields/{ht.id}", {**FIELD_HT, "prefix": "B"})
    assert r.status_code == 422 and "Chứng thực" in r.get_data(as_text=True)
    r = post(client, "/manager/config/priority", {"priority_ratio": "0", "transfer_position": "front"})
    assert r.status_code == 422
    r = post(client, "/manager/config/schedule", {"issue_mon": "25:00-11:00"})
    assert r.status_code == 422
    r = post(client, "/manager/config/announcements", {"announcement_template": "Mời số {so}", "announcement_repeat": "2"})
    assert r.status_code == 422
    r = post(client, "/manager/config/ratings", {"rating_scale": "Tốt\nTạm\nKém", "rating_scale_en": "Good\nBad",
                                                 "rating_low_count": "1", "rating_seconds": "30"})
    assert r.status_code == 422
    assert one(app, Service, code="HT").prefix == "A"
    assert audits(app) == []


def test_counter_weights_change_what_the_counter_calls(app, demo) -> None:
    client = manager_client(app, demo)
    c4 = one(app, Counter, number=4)
    kiosk = demo.kiosk
    t = app.test_client().post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk).get_json()
    # Counter 4 serves KD and XH: nobody for it yet.
    assert app.test_client().post("/api/v1/counters/4/next", headers=demo.clerk(4).headers).get_json()["ticket"] is None
    r = post(client, f"/manager/config/counters/{c4.id}",
             {"number": "4", "name": "Quầy 4 — Kinh doanh, hộ tịch", "active": "y", "weight-KD": "1", "weight-XH": "", "weight-HT": "2"})
    assert r.status_code == 302, r.get_data(as_text=True)
    called = app.test_client().post("/api/v1/counters/4/next", headers=demo.clerk(4).headers).get_json()
    assert called["ticket"]["code"] == t["code"]
    row = audits(app)[-1]
    assert row.entity == "counter" and row.changes["fields"] == [{"KD": 1.0, "XH": 1.0}, {"HT": 2.0, "KD": 1.0}]
    # A counter must serve at least one field (CounterConfig), and an open one cannot be switched off.
    r = post(client, f"/manager/config/counters/{c4.id}", {"number": "4", "active": "y"})
    assert r.status_code == 422
    r = post(client, f"/manager/config/counters/{c4.id}", {"number": "4", "weight-KD": "1"})
    assert r.status_code == 422 and one(app, Counter, number=4).active


def test_device_token_is_shown_once_works_and_can_be_revoked(app, demo) -> None:
    client = manager_client(app, demo)
    r = post(client, "/manager/config/devices/new", {"name": "Màn hình tầng 2", "kind": "display", "counter": "", "printer": "", "backup_printer": ""})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="secret">(dev_[^<]+)<', r.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    device = one(app, Device, name="Màn hình tầng 2")
    assert token not in client.get("/manager/config/devices").get_data(as_text=True)

    r = post(client, f"/manager/config/devices/{device.id}/token", {}, form_url="/manager/config/devices")
    new = re.search(r'id="secret">(dev_[^<]+)<', r.get_data(as_text=True)).group(1)
    assert api.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/queue", headers={"Authorization": f"Bearer {new}"}).status_code == 200

    r = post(client, f"/manager/config/devices/{device.id}/revoke", {}, form_url="/manager/config/devices")
    assert r.status_code == 302
    bad = api.get("/api/v1/queue", headers={"Authorization": f"Bearer {new}"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "bad_token"
    assert [a.action for a in audits(app)] == ["create", "token_issued", "revoke"]
    assert all("dev_" not in str(a.changes) for a in audits(app))
    # A rating pad needs its counter.
    r = post(client, "/manager/config/devices/new", {"name": "Pad", "kind": "rating", "counter": "", "printer": "", "backup_printer": ""})
    assert r.status_code == 422


def test_users_add_reset_deactivate(app, demo) -> None:
    client = manager_client(app, demo)
    r = post(client, "/manager/config/users/new", {"username": "canbo-moi", "full_name": "Nguyễn Thị Mới", "role": "clerk", "counter": "3",
                                                  "password": "", "active": "y"})
    assert r.status_code == 200
    password = re.search(r'id="secret">([^<]+)<', r.get_data(as_text=True)).group(1)
    user = one(app, User, username="canbo-moi")
    assert user.role.value == "clerk" and user.full_name == "Nguyễn Thị Mới"

    class Who:
        username = "canbo-moi"

    Who.password = password
    login(app.test_client(), Who)

    r = post(client, f"/manager/config/users/{user.id}/password", {}, form_url="/manager/config/users")
    fresh = re.search(r'id="secret">([^<]+)<', r.get_data(as_text=True)).group(1)
    old = app.test_client()
    page = old.get("/login").get_data(as_text=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert old.post("/login", data={"username": "canbo-moi", "password": password, "csrf_token": tok}).status_code == 401
    Who.password = fresh
    login(app.test_client(), Who)

    r = post(client, f"/manager/config/users/{user.id}", {"username": "canbo-moi", "full_name": "Nguyễn Thị Mới", "role": "clerk", "counter": "3"})
    assert r.status_code == 302 and not one(app, User, username="canbo-moi").active
    # Managers do not make admins, nor lock themselves out.
    r = post(client, "/manager/config/users/new", {"username": "sep", "role": "admin", "password": "matkhau-dai-du", "active": "y"})
    assert r.status_code == 422 and one(app, User, username="sep") is None
    me = one(app, User, username=demo.manager.username)
    r = post(client, f"/manager/config/users/{me.id}", {"username": me.username, "full_name": "x", "role": "manager", "counter": ""})
    assert r.status_code == 422 and one(app, User, username=demo.manager.username).active
    actions = [(a.entity_id, a.action) for a in audits(app)]
    assert actions == [("canbo-moi", "create"), ("canbo-moi", "reset_password"), ("canbo-moi", "update")]
    assert password not in str([a.changes for a in audits(app)])


def test_a_holiday_closes_the_kiosk_at_once(app, demo) -> None:
    client = manager_client(app, demo)
    today = clock.business_day(clock.now(), "Asia/Ho_Chi_Minh")
    r = post(client, "/manager/config/schedule", {"holidays": f"{today:%d/%m/%Y}\n01/01/2027", **{f"issue_{d}": "00:00-24:00" for d in
                                                                                                  ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    assert r.status_code == 302, r.get_data(as_text=True)
    services = app.test_client().get("/api/v1/services").get_json()["services"]
    assert all(s["closed_reason"]["code"] == "holiday" for s in services)
    issued = app.test_client().post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    assert issued.status_code == 403 and issued.get_json()["error"]["code"] == "holiday"
    row = audits(app)[-1]
    assert row.entity == "settings" and today.isoformat() in row.changes["holidays"][1]
    assert date(2027, 1, 1).isoformat() in row.changes["holidays"][1]


def test_alert_thresholds_and_rating_scale(app, demo) -> None:
    client = manager_client(app, demo)
    r = post(client, "/manager/config/alerts", {"wait_alert_minutes": "20", "device_offline_minutes": "3", "printer_failure_minutes": "10",
                                                "field-alert-HT": "12", "field-alert-CT": ""})
    assert r.status_code == 302, r.get_data(as_text=True)
    limits = client.get("/manager/api/today").get_json()["thresholds"]
    assert limits == {"wait_alert_minutes": 20, "field_wait_alert_minutes": {"HT": 12}, "device_offline_minutes": 3, "printer_failure_minutes": 10}
    r = post(client, "/manager/config/ratings", {"rating_scale": "Rất hài lòng\nHài lòng\nBình thường\nKhông hài lòng\nRất không hài lòng",
                                                 "rating_scale_en": "Very satisfied\nSatisfied\nNeutral\nDissatisfied\nVery dissatisfied",
                                                 "rating_low_count": "2", "rating_seconds": "45"})
    assert r.status_code == 302
    body = client.get("/api/v1/reports/summary").get_json()
    assert body["rating_scale"][-1] == "Rất không hài lòng"
    r = post(client, "/manager/config/announcements", {"announcement_template": "Mời công dân số {number} tới quầy {counter}", "announcement_repeat": "1"})
    assert r.status_code == 302
    from motcua.models import Office

    settings = one(app, Office, code="demo").settings
    assert settings["announcement_repeat"] == 1 and settings["rating_seconds"] == 45 and settings["rating_low_count"] == 2


def test_revoking_or_replacing_a_token_closes_the_sockets_it_opened(app, demo, db) -> None:
    client = manager_client(app, demo)
    sio = get_socketio(app)

    def screen(name: str):
        c = sio.test_client(app, namespace="/display", auth={"token": demo.devices[name]})
        assert c.is_connected("/display")
        return c

    pad_name = next(n for n in demo.devices if n not in ("Màn hình sảnh", "Màn hình quầy 1") and not n.startswith("Kiosk"))
    hall, board, pad = screen("Màn hình sảnh"), screen("Màn hình quầy 1"), screen(pad_name)

    # In the process where the manager acts: at once.
    post(client, f"/manager/config/devices/{one(app, Device, name='Màn hình sảnh').id}/token", {}, form_url="/manager/config/devices")
    assert not hall.is_connected("/display") and board.is_connected("/display")
    post(client, f"/manager/config/devices/{one(app, Device, name='Màn hình quầy 1').id}/revoke", {}, form_url="/manager/config/devices")
    assert not board.is_connected("/display") and pad.is_connected("/display")

    # Revoked elsewhere (another process, the CLI): this process's guard finds it on its next round.
    with db.write() as s:
        s.scalar(select(Device).where(Device.name == pad_name)).revoked_at = clock.now()
    assert pad.is_connected("/display")
    assert app.extensions["motcua.presence"].cut_revoked() == 1
    assert not pad.is_connected("/display")

    # A clerk's counter page (a session socket) closes when the manager deactivates the clerk.
    clerk = demo.clerk(1)
    browser = app.test_client()
    login(browser, clerk)
    page = sio.test_client(app, namespace="/display", flask_test_client=browser, auth={"counter": 1})
    other = sio.test_client(app, namespace="/display", auth={"token": demo.devices["Kiosk sảnh"]})
    assert page.is_connected("/display") and other.is_connected("/display")
    user = one(app, User, username=clerk.username)
    r = post(client, f"/manager/config/users/{user.id}", {"username": clerk.username, "full_name": user.full_name or "x",
                                                          "role": "clerk", "counter": "1"}, form_url=f"/manager/config/users/{user.id}")
    assert r.status_code == 302 and not one(app, User, username=clerk.username).active
    assert not page.is_connected("/display") and other.is_connected("/display")
