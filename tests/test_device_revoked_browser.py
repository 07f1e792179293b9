"""A device whose token a manager revokes while its page runs shows its set-up screen at once,
not "Mất kết nối" for ever: the hall display, the counter display, the rating pad and the kiosk,
in Chromium against a real `motcua serve`, revoked through the manager's devices page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import LOCALE, TIMEZONE
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms: generous for a loaded machine; the old pages never got there at all

# device name -> (page path, what shows once it runs, what shows once its token is refused, the reason)
PAGES = {
    "Màn hình sảnh": ("/display/", "#app", "#setup", "#setup-reason"),
    "Màn hình quầy 1": ("/counter/display", "#screen-main", "#screen-setup", "#setup-error"),
    "Đánh giá quầy 1": ("/counter/rating", "#screen-idle", "#screen-setup", "#setup-error"),
    "Kiosk sảnh": ("/kiosk/", "#screen-start", "#screen-setup", '[data-reason="bad_token"]'),
}


def revoke(browser, server: LiveServer, device: str) -> None:
    """What a manager does: sign in, open the devices page, press "Thu hồi" and confirm."""
    context = browser.new_context(locale=LOCALE, timezone_id=TIMEZONE)
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        page.fill('input[name="username"]', server.demo.manager.username)
        page.fill('input[name="password"]', server.demo.manager.password)
        with page.expect_navigation():
            page.click('button[type="submit"]')
        page.goto(server.url + "/manager/config/devices")
        page.once("dialog", lambda d: d.accept())
        with page.expect_navigation():
            page.locator("tr", has_text=device).locator("button", has_text="Thu hồi").click()
        expect(page.locator("body")).to_contain_text("Đã thu hồi mã")
    finally:
        context.close()


@pytest.mark.parametrize("device", list(PAGES))
def test_a_revoked_device_shows_its_setup_screen_at_once(live_server: LiveServer, browser, page: Page, device: str) -> None:
    path, running, setup, reason = PAGES[device]
    snapshots: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: snapshots.append(str(frame)[:40]) if '"snapshot"' in str(frame)[:40] else None))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}{path}?token={live_server.demo.devices[device]}")
    expect(page.locator(running)).to_be_visible(timeout=WAIT)
    for _ in range(100):  # the socket is up: the revocation cuts it, it is not refused later
        if snapshots:
            break
        page.wait_for_timeout(100)
    assert snapshots, "the page's socket never got its snapshot"

    revoke(browser, live_server, device)

    expect(page.locator(setup)).to_be_visible(timeout=WAIT)
    expect(page.locator(reason).first).to_be_visible()
    expect(page.locator(reason).first).to_contain_text("thu hồi")
    expect(page.locator(running)).to_be_hidden()
    expect(page.locator("#offline")).to_be_hidden()
    # The refused token is forgotten: a reload stays on the set-up screen, asking for a new one.
    page.reload()
    expect(page.locator(setup)).to_be_visible(timeout=WAIT)
