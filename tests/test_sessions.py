"""When a staff session ends: a copy of its cookie stops working at sign-out, and when the user's
password, role or active flag changes; the CSRF token rotates at sign-in; a staff page's socket
closes at sign-out; and a ticket's public cancel never acts as the signed-in user."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from motcua.models import Role, TicketEvent, User
from motcua.realtime import get_socketio
from tests.support.demo import login
from tests.support.env import TWO_OFFICES
from tests.support.forms import post


def copy_of(app, client):
    """Another browser holding a copy of this one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client, page: str) -> bool:
    r = client.get(page)
    assert r.status_code in (200, 302), r.status_code
    return r.status_code == 200


def user_id(app, username: str) -> int:
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_a_copied_session_cookie_stops_working_at_sign_out(app, demo) -> None:
    browser = app.test_client()
    csrf = login(browser, demo.manager)
    thief = copy_of(app, browser)
    assert signed_in(thief, "/manager/")
    r = browser.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 302
    assert not signed_in(browser, "/manager/")
    assert not signed_in(thief, "/manager/")
    # The API refuses the copy too (a session, not a token).
    assert thief.get("/api/v1/queue").status_code == 401


def test_a_password_reset_ends_the_users_sessions(app, demo) -> None:
    clerk = app.test_client()
    login(clerk, demo.clerk(1))
    thief = copy_of(app, clerk)
    manager = app.test_client()
    login(manager, demo.manager)
    uid = user_id(app, demo.clerk(1).username)
    r = post(manager, f"/manager/config/users/{uid}/password", {}, form_url="/manager/config/users")
    assert r.status_code == 200
    assert not signed_in(clerk, "/counter/")
    assert not signed_in(thief, "/counter/")
    assert signed_in(manager, "/manager/")  # the manager's own session goes on


@pytest.mark.parametrize("change", ["role", "deactivate"])
def test_a_role_change_or_deactivation_ends_the_users_sessions(app, demo, change: str) -> None:
    clerk = app.test_client()
    login(clerk, demo.clerk(1))
    with app.extensions["motcua"].db.write() as s:  # any way of changing it: a page, the CLI, a script
        u = s.scalar(select(User).where(User.username == demo.clerk(1).username))
        if change == "role":
            u.role = Role.manager
        else:
            u.active = False
    assert not signed_in(clerk, "/counter/")


def test_a_change_of_name_keeps_the_session(app, demo) -> None:
    clerk = app.test_client()
    login(clerk, demo.clerk(1))
    with app.extensions["motcua"].db.write() as s:
        s.scalar(select(User).where(User.username == demo.clerk(1).username)).full_name = "Tên mới"
    assert signed_in(clerk, "/counter/")


def test_changing_ones_own_password_keeps_this_page_and_ends_the_others(app, demo) -> None:
    manager = app.test_client()
    login(manager, demo.manager)
    elsewhere = copy_of(app, manager)
    uid = user_id(app, demo.manager.username)
    url = f"/manager/config/users/{uid}"
    r = post(manager, url, {"username": demo.manager.username, "full_name": "Manager", "role": "manager", "counter": "",
                            "active": "y", "password": "cay-bang-xanh-ven-ho"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert signed_in(manager, "/manager/")
    assert not signed_in(elsewhere, "/manager/")


def test_the_csrf_token_rotates_at_sign_in(app, demo) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    after = login(client, demo.clerk(1))
    assert after != before
    r = client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": before})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    assert client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": after}).status_code == 200


def test_a_staff_pages_socket_closes_at_sign_out(app, demo) -> None:
    sio = get_socketio(app)
    browser = app.test_client()
    csrf = login(browser, demo.clerk(1))
    page = sio.test_client(app, namespace="/display", flask_test_client=browser, auth={"counter": 1})
    other = app.test_client()
    login(other, demo.clerk(2))
    colleague = sio.test_client(app, namespace="/display", flask_test_client=other, auth={"counter": 2})
    assert page.is_connected("/display") and colleague.is_connected("/display")
    browser.post("/logout", data={"csrf_token": csrf})
    assert not page.is_connected("/display")
    assert colleague.is_connected("/display")


def test_a_public_cancel_never_acts_as_the_signed_in_user(make_app) -> None:
    app, demos = make_app(TWO_OFFICES)
    (code_a, a), (code_b, b) = sorted(demos.items())
    kiosk_b = app.test_client()
    services = kiosk_b.get(f"/api/v1/services?office={code_b}", headers=b.kiosk).get_json()["services"]
    t = kiosk_b.post("/api/v1/tickets", json={"service": services[0]["code"]}, headers=b.kiosk).get_json()

    manager_a = app.test_client()
    csrf = login(manager_a, a.manager)
    # A page of another site making the manager's browser post: the session cookie rides along, no CSRF token.
    r = manager_a.post(f"/api/v1/tickets/{t['public_id']}/cancel", json={})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    r = manager_a.post(f"/api/v1/tickets/{t['public_id']}/cancel", json={}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    with app.extensions["motcua"].db.read() as s:
        event = s.scalars(select(TicketEvent).where(TicketEvent.kind == "cancelled").order_by(TicketEvent.id.desc())).first()
        assert event.user_id is None  # the citizen's cancel, not office A's manager's

    # The citizen's own phone (no cookie) needs nothing more than the id.
    t2 = kiosk_b.post("/api/v1/tickets", json={"service": services[0]["code"]}, headers=b.kiosk).get_json()
    assert app.test_client().post(f"/api/v1/tickets/{t2['public_id']}/cancel", json={}).status_code == 200
