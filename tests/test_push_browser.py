"""Web Push on a phone (390×844): the citizen opens the ticket's status page, taps "Báo cho tôi",
the page's service worker is really registered and active, and the server keeps the subscription.
As the clerk advances the queue through the counter API, the server's notifier sends "near" and
"called"; they reach the push service on 127.0.0.1 encrypted for the browser's keys and are
decrypted there with them; the real service worker shows a pushed message as a notification.
A second tap turns it off again, and the button goes once the ticket is over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from motcua.app import create_app
from motcua.config import PUSH_SERVICES
from motcua.notify.subscriptions import PushSubscription
from tests.support.browser import csp_refusals, phone_context, screenshot
from tests.support.env import DEMO_CONFIG
from tests.support.push_service import PushService
from tests.support.screen_checks import assert_accessible, assert_fits

PHONE = {"width": 390, "height": 844}

# Headless Chromium here cannot reach a vendor's push service (FCM) offline, so this shim is the
# only stand-in in the test: `pushManager.subscribe` answers with a subscription whose endpoint
# is the local push service and whose keys the test made, as a browser would. It checks nothing
# away: the page still asks the real permission, and the service worker is the real one.
SHIM = """
(() => {
  const sub = %s;
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const make = (key) => ({
    endpoint: sub.endpoint, expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: Uint8Array.from(atob(key.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)).buffer },
    toJSON: () => JSON.parse(JSON.stringify(sub)),
    unsubscribe: async () => { localStorage.removeItem("shim.key"); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = b64(new Uint8Array(options.applicationServerKey));
    localStorage.setItem("shim.key", key);
    return make(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem("shim.key");
    return key ? make(key) : null;
  };
})();
"""


@pytest.fixture
def service():
    svc = PushService()
    yield svc
    svc.close()


@pytest.fixture
def push_server(live_server_factory, service, tmp_path):
    services = ", ".join(f'"{s}"' for s in (*PUSH_SERVICES, service.origin))
    config = tmp_path / "push.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("[server]\n", f"[server]\npush_services = [{services}]\n", 1), encoding="utf-8")
    server = live_server_factory(config=config)
    # The same database and instance folder as the server: its VAPID key, its subscriptions.
    app = create_app(config, database_url=server.env["DATABASE_URL"], instance=Path(server.env["MOTCUA_INSTANCE"]), plugins=False)
    yield server, app
    app.extensions["motcua"].db.dispose()


def subscriptions(app) -> list[PushSubscription]:
    with app.extensions["motcua"].db.read() as s:
        return list(s.scalars(select(PushSubscription)))


def test_notify_me_on_a_phone(push_server, service, browser) -> None:
    server, app = push_server
    kiosk = server.demo.kiosk
    issued = [requests.post(server.url + "/api/v1/tickets", json={"service": "HT"}, headers=kiosk, timeout=10).json() for _ in range(4)]
    mine = issued[-1]
    key = requests.get(server.url + "/api/v1/public/push/key", timeout=10).json()["key"]
    browser_sub = service.subscribe(server_key=key)

    ctx = phone_context(browser, PHONE)
    ctx.grant_permissions(["notifications"], origin=server.url)
    ctx.add_init_script(SHIM % json.dumps(browser_sub))
    try:
        page = ctx.new_page()
        refused = csp_refusals(page)
        page.goto(f"{server.url}/t/{mine['public_id']}")
        button = page.get_by_role("button", name="Báo cho tôi")
        expect(button).to_be_visible()
        expect(page.locator("#push-note")).to_have_text(
            "Điện thoại sẽ báo khi còn 5 và 2 người trước bạn và khi bạn được gọi, kể cả khi đã đóng trang này.")
        # The service worker is registered for real, from /t/ so that it covers this page.
        worker = page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.ready;
            return { scope: reg.scope, state: reg.active && reg.active.state, script: reg.active && reg.active.scriptURL };
        }""")
        assert worker["scope"] == server.url + "/t/" and worker["state"] == "activated"
        assert worker["script"] == server.url + "/t/sw.js?lang=vi"
        assert_fits(page, "status page with Báo cho tôi, 390 px")
        assert_accessible(page, "status page with Báo cho tôi, 390 px")
        button.scroll_into_view_if_needed()
        screenshot(page, "ticket-status-notify-phone")

        button.tap()
        expect(page.get_by_role("button", name="Tắt thông báo")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#push-note")).to_have_text("Đã bật thông báo cho số này.")
        [stored] = subscriptions(app)
        assert (stored.ticket_id, stored.endpoint, stored.p256dh, stored.auth) == (
            mine["id"], browser_sub["endpoint"], browser_sub["keys"]["p256dh"], browser_sub["keys"]["auth"])
        assert page.evaluate("localStorage.getItem('shim.key')") == key  # subscribed with the server's VAPID key

        # The clerk at counter 1 works through the three citizens ahead: when two are left the
        # server's notifier pushes "near", and "called" when the clerk calls this ticket. Both reach
        # the push service encrypted for this browser and are decrypted there with its keys.
        clerk = server.demo.clerk(1).headers
        for i, ahead in enumerate(issued[:3]):
            assert requests.post(server.url + "/api/v1/counters/1/next", headers=clerk, timeout=10).json()["ticket"]["code"] == ahead["code"]
            if i == 0:
                near = service.wait(timeout=30).message
                assert near == {"event": "near", "code": "A004", "ahead": 2, "text_vi": "Còn 2 người trước bạn (số A004)",
                                "text_en": "2 people ahead of you (number A004)", "url": f"/t/{mine['public_id']}"}
            for step in ("start", "finish"):
                assert requests.post(f"{server.url}/api/v1/counters/1/{step}", headers=clerk, timeout=10).status_code == 200
        assert requests.post(server.url + "/api/v1/counters/1/next", headers=clerk, timeout=10).json()["ticket"]["code"] == "A004"
        called = service.wait(timeout=30).message
        assert called["event"] == "called" and called["text_vi"] == "Mời bạn đến quầy số 1" and called["url"] == f"/t/{mine['public_id']}"
        # "near" once for the threshold it crossed (not again at 1 and 0 ahead), "called" once.
        assert [m["event"] for m in service.messages_for(browser_sub)] == ["near", "called"]
        expect(page.locator("#state-main")).to_have_text("Mời bạn đến quầy số 1")

        # What the push service hands the browser, the real service worker shows.
        shown = _push_into_worker(ctx, page, server.url, called)
        assert {"title": "motcua", "body": "Mời bạn đến quầy số 1"} in shown

        # The page remembers it is on after a reload; a second tap turns it off on the server.
        page.reload()
        off = page.get_by_role("button", name="Tắt thông báo")
        expect(off).to_be_visible()
        off.tap()
        expect(page.get_by_role("button", name="Báo cho tôi")).to_have_attribute("aria-pressed", "false")
        assert subscriptions(app) == []
        # Once the ticket is over, the button goes, and so would any subscription (tests/test_push.py).
        for step in ("start", "finish"):
            requests.post(f"{server.url}/api/v1/counters/1/{step}", headers=clerk, timeout=10)
        expect(page.locator("#push-box")).to_be_hidden()
    finally:
        ctx.close()
    assert not refused, refused


def test_the_button_speaks_english_and_hides_without_push(push_server, browser) -> None:
    server, _ = push_server
    t = requests.post(server.url + "/api/v1/tickets", json={"service": "HT"}, headers=server.demo.kiosk, timeout=10).json()
    ctx = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/t/{t['public_id']}?lang=en")
        expect(page.get_by_role("button", name="Notify me")).to_be_visible()
        expect(page.locator("#push-note")).to_contain_text("when 5 and 2 people are ahead of you")
        assert_accessible(page, "status page with Notify me, en, 390 px")
        # A browser without PushManager (an old one, or iOS outside a home-screen app): no button.
        page.add_init_script("delete window.PushManager;")
        page.reload()
        expect(page.locator("#code")).to_have_text(t["code"])
        expect(page.locator("#push-box")).to_be_hidden()
    finally:
        ctx.close()


def _push_into_worker(ctx, page, origin: str, message: dict) -> list[dict]:
    """Deliver a push message to the page's real service worker (DevTools' deliverPushMessage,
    what the browser does when its push service hands it one) and list the notifications shown."""
    cdp = ctx.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if any(r["scopeURL"] == origin + "/t/" and not r["isDeleted"] for r in registrations):
            break
        page.wait_for_timeout(100)
    reg = [r for r in registrations if r["scopeURL"] == origin + "/t/" and not r["isDeleted"]][-1]
    # DevTools hands the message to the worker without the push service's retry, and a busy
    # machine can start the stopped worker after the first wait is over: deliver again then (a
    # newer message with the same tag replaces the older one, so the list still shows one).
    for _ in range(3):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": origin, "registrationId": reg["registrationId"], "data": json.dumps(message)})
        shown = page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.ready;
            for (let i = 0; i < 100; i++) {
                const shown = await reg.getNotifications();
                if (shown.length) return shown.map((n) => ({ title: n.title, body: n.body }));
                await new Promise((r) => setTimeout(r, 100));
            }
            return [];
        }""")
        if shown:
            return shown
    return []
