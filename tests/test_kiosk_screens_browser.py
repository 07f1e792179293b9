"""The kiosk and the status page as a citizen meets them: a double tap, the English visit,
an office of 12 fields with long names at 1920×1080 and 1080×1920, the status page on a
360-px phone, and axe-core on every state.

Screenshots for the docs: kiosk12-* (office12) at each size, ticket-status12-phone.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.browser import phone_context, screenshot
from tests.support.env import REPO
from tests.support.kiosk_page import KIOSK, PORTRAIT, TIMEOUT, open_kiosk, ticket_on_screen
from tests.support.screen_checks import assert_accessible, assert_fits

pytestmark = pytest.mark.browser

OFFICE12 = REPO / "tests" / "data" / "office12.toml"
LANDSCAPE = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
SIZES = {"portrait": PORTRAIT, "landscape": LANDSCAPE}

# Every visible text of a field button lies inside the button, and every button inside the
# screen: a name or a count cut off by its box or by the scrolling grid is a fault.
_OUTSIDE = """(sel) => {
  const out = [];
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  for (const b of document.querySelectorAll(sel)) {
    if (b.offsetParent === null) continue;
    const r = b.getBoundingClientRect();
    if (r.top < -1 || r.left < -1 || r.bottom > vh + 1 || r.right > vw + 1) out.push([b.dataset.code || b.id, 'button off screen']);
    for (const t of b.querySelectorAll('span')) {
      if (t.offsetParent === null || !t.textContent.trim()) continue;
      const q = t.getBoundingClientRect();
      if (q.top < r.top - 1 || q.bottom > r.bottom + 1 || q.left < r.left - 1 || q.right > r.right + 1) {
        out.push([b.dataset.code || b.id, t.className, t.textContent.trim().slice(0, 40)]);
      }
    }
  }
  return out;
}"""


def settled(page: Page) -> None:
    """Fonts loaded and the kiosk's text fitting (run in an animation frame) done."""
    page.evaluate("() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))")


def assert_all_inside(page: Page, selector: str, state: str) -> None:
    settled(page)
    outside = page.evaluate(_OUTSIDE, selector)
    assert not outside, f"text outside its button or off the screen on {state}: {outside}"


def open_office12(page: Page, server, size: dict) -> None:
    page.set_viewport_size(size)
    page.goto(f"{server.url}/kiosk/?token={server.demos['lon'].devices[KIOSK]}")
    expect(page.locator("#screen-start")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#fields .k-field")).to_have_count(12, timeout=TIMEOUT)


# ---- defect 3: a double tap on a lower field must not hide the ticket ------------------------


def test_a_second_tap_does_not_dismiss_the_new_ticket(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    fields = page.evaluate("""() => [...document.querySelectorAll('#fields .k-field')].map((b) => {
        const r = b.getBoundingClientRect(); return {code: b.dataset.code, x: r.x, y: r.y, w: r.width, h: r.height}; })""")
    lowest = max(fields, key=lambda f: f["y"])
    x, y = lowest["x"] + lowest["w"] / 2, lowest["y"] + lowest["h"] * 0.8
    page.mouse.click(x, y)
    page.wait_for_timeout(350)
    page.mouse.click(x, y)
    shown = ticket_on_screen(page)
    page.wait_for_timeout(1200)
    expect(page.locator("#screen-result")).to_be_visible()
    expect(page.locator("#r-number")).to_have_text(shown["code"])
    # No button of the ticket screen sits where a field button was.
    buttons = page.evaluate("""() => [...document.querySelectorAll('#screen-result button')].filter((b) => b.offsetParent !== null)
        .map((b) => { const r = b.getBoundingClientRect(); return {id: b.id, x: r.x, y: r.y, w: r.width, h: r.height}; })""")
    assert buttons
    for b in buttons:
        for f in fields:
            overlap = b["x"] < f["x"] + f["w"] and f["x"] < b["x"] + b["w"] and b["y"] < f["y"] + f["h"] and f["y"] < b["y"] + b["h"]
            assert not overlap, (b, f)
    # After the guard time the ticket screen answers taps again.
    page.locator("#done").click()
    expect(page.locator("#screen-start")).to_be_visible()


# ---- defect 4: the language holds for the whole visit ----------------------------------------


def test_back_keeps_the_english_visit(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    page.locator("#lang-toggle").click()
    title = page.locator("#screen-start .k-title")
    expect(title).to_have_text("Touch the service you need", timeout=TIMEOUT)
    page.locator("#priority-button").click()
    expect(page.locator("#screen-groups")).to_be_visible()
    page.locator('#screen-groups [data-action="home"]').click()
    expect(page.locator("#screen-start")).to_be_visible()
    page.wait_for_timeout(800)  # a reload to Vietnamese would have happened by now
    expect(title).to_have_text("Touch the service you need")
    page.locator("#priority-button").click()
    page.locator('#groups [data-group="elderly"]').click()
    expect(page.locator("#screen-priority")).to_be_visible()
    page.locator('#screen-priority [data-action="groups"]').click()
    page.locator('#screen-groups [data-action="home"]').click()
    page.wait_for_timeout(800)
    expect(title).to_have_text("Touch the service you need")
    expect(page.locator("#lang-toggle")).to_have_text("Tiếng Việt")
    # The visit ends with the ticket: the next citizen finds Vietnamese.
    page.locator('#fields [data-code="HT"]').click()
    ticket_on_screen(page)
    page.wait_for_timeout(1600)
    page.locator("#done").click()
    expect(title).to_have_text("Chạm vào lĩnh vực bạn cần giải quyết", timeout=TIMEOUT)


# ---- defect 5: twelve fields with long names fit both orientations ---------------------------


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_twelve_fields_fit_the_kiosk(live_server_factory, page: Page, orientation: str) -> None:
    server = live_server_factory(config=OFFICE12)
    size = SIZES[orientation]
    # A few waiting, so the counts and ranges are long texts too.
    for code in ("HT", "HT", "CT", "TKQ"):
        r = requests.post(f"{server.url}/api/v1/tickets", json={"service": code}, headers=server.demos["lon"].kiosk, timeout=10)
        assert r.status_code == 201, r.text
    open_office12(page, server, size)
    expect(page.locator('#fields [data-code="HT"]')).to_have_attribute("data-waiting", "2", timeout=TIMEOUT)
    settled(page)
    assert_fits(page, f"kiosk start, 12 fields, {orientation}")
    assert_all_inside(page, "#fields .k-field, #priority-button", f"kiosk start, 12 fields, {orientation}")
    screenshot(page, f"kiosk12-start-{orientation}")

    page.locator("#priority-button").click()
    expect(page.locator("#screen-groups")).to_be_visible()
    assert_fits(page, f"kiosk groups, {orientation}")
    page.locator('#groups [data-group="elderly"]').click()
    expect(page.locator("#screen-priority")).to_be_visible()
    settled(page)
    assert_fits(page, f"kiosk priority fields, 12 fields, {orientation}")
    assert_all_inside(page, "#priority-fields .k-field", f"kiosk priority fields, {orientation}")
    screenshot(page, f"kiosk12-priority-{orientation}")

    page.locator('#priority-fields [data-code="XH"]').click()
    ticket_on_screen(page)
    page.wait_for_function("() => { const i = document.getElementById('r-qr'); return i.complete && i.naturalWidth > 0; }", timeout=TIMEOUT)
    assert_fits(page, f"kiosk ticket, {orientation}")
    screenshot(page, f"kiosk12-result-{orientation}")


def test_status_page_fits_a_small_phone(live_server_factory, browser) -> None:
    server = live_server_factory(config=OFFICE12)
    r = requests.post(f"{server.url}/api/v1/tickets", json={"service": "CT", "priority": "elderly"}, headers=server.demos["lon"].kiosk, timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    phone = phone_context(browser, PHONE)
    try:
        mobile = phone.new_page()
        for lang in ("vi", "en"):
            mobile.goto(f"{ticket['status_url']}?lang={lang}")
            expect(mobile.locator("#code")).to_have_text(ticket["code"])
            assert_fits(mobile, f"status page {lang}, 360 px")
            assert mobile.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
            assert_accessible(mobile, f"status page {lang}, 360 px")
        screenshot(mobile, "ticket-status12-phone")
    finally:
        phone.close()


# ---- accessibility: every kiosk state ---------------------------------------------------------


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_kiosk_states_are_accessible(live_server, page: Page, orientation: str) -> None:
    open_kiosk(page, live_server, size=SIZES[orientation])
    expect(page.locator("main")).to_have_count(1)
    assert_accessible(page, f"kiosk start, {orientation}")
    page.locator("#priority-button").click()
    assert_accessible(page, f"kiosk groups, {orientation}")
    page.locator('#groups [data-group="elderly"]').click()
    assert_accessible(page, f"kiosk priority fields, {orientation}")
    page.locator('#priority-fields [data-code="HT"]').click()
    ticket_on_screen(page)
    assert_accessible(page, f"kiosk ticket, {orientation}")
    assert page.locator("h1:visible").count() == 1
    assert re.search(r"A\d{3}", page.locator("#r-number").inner_text())


# ---- beyond: large text for the visit, help that reaches the counters ---------------------------


def test_large_text_holds_for_the_visit_and_help_reaches_the_counter(live_server, browser, page: Page) -> None:
    clerk_ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        clerk = clerk_ctx.new_page()
        staff = live_server.demo.clerk(1)
        clerk.goto(live_server.url + "/login")
        clerk.fill('input[name="username"]', staff.username)
        clerk.fill('input[name="password"]', staff.password)
        clerk.locator('button[type="submit"]').click()
        clerk.goto(live_server.url + "/counter/")
        clerk.wait_for_load_state("networkidle")

        open_kiosk(page, live_server)
        name = page.locator('#fields [data-code="HT"] .f-name')
        before = float(name.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))
        page.locator("#large-toggle").click()
        expect(page.locator("#app")).to_have_attribute("data-large", "1")
        expect(page.locator("#large-toggle")).to_have_attribute("aria-pressed", "true")
        settled(page)
        assert float(name.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)")) > before * 1.05
        assert_fits(page, "kiosk start, large text")
        assert_accessible(page, "kiosk start, large text")
        screenshot(page, "kiosk-large-text-portrait")
        # A language switch is part of the visit: large text stays.
        page.locator("#lang-toggle").click()
        expect(page.locator("#screen-start .k-title")).to_have_text("Touch the service you need", timeout=TIMEOUT)
        expect(page.locator("#app")).to_have_attribute("data-large", "1")

        page.locator("#help-open").click()
        expect(page.locator("#help")).to_be_visible()
        assert_accessible(page, "kiosk help")
        screenshot(page, "kiosk-help-portrait")
        page.locator("#help-call").click()
        expect(page.locator("#help-status")).to_have_text("Staff have been told. Please wait a moment.", timeout=TIMEOUT)
        expect(clerk.locator(".help-call")).to_contain_text("Kiosk sảnh", timeout=TIMEOUT)
        clerk.locator(".help-call-close").click()
        expect(clerk.locator(".help-call")).to_have_count(0)
        page.locator("#help-close").click()

        # The ticket ends the visit: Vietnamese and normal text for the next citizen.
        page.locator('#fields [data-code="HT"]').click()
        ticket_on_screen(page)
        page.wait_for_timeout(1600)
        page.locator("#done").click()
        expect(page.locator("#screen-start .k-title")).to_have_text("Chạm vào lĩnh vực bạn cần giải quyết", timeout=TIMEOUT)
        expect(page.locator("#app")).to_have_attribute("data-large", "0")
    finally:
        clerk_ctx.close()


def test_the_demo_kiosk_speaks(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    expect(page.locator("#speak-again")).to_be_visible(timeout=TIMEOUT)  # the demo kiosk has voice = true
    page.locator("#screen-start .k-title").click()
    expect(page.locator("#app")).to_have_attribute("data-spoke", "prompt", timeout=TIMEOUT)
    page.locator('#fields [data-code="HT"]').click()
    ticket_on_screen(page)
    expect(page.locator("#app")).to_have_attribute("data-spoke", "ticket", timeout=TIMEOUT)
