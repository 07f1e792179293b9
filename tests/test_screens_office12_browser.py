"""The hall, the counter display, the rating pad, the counter page and the login page with an
office of 12 fields with long names and 12 counters (tests/data/office12.toml): no name, number
or count cut, readable from across the hall, and no serious accessibility fault (axe-core),
at each screen size; screenshots for the docs."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.browser import screenshot
from tests.support.env import REPO
from tests.support.screen_checks import assert_accessible, assert_fits

pytestmark = pytest.mark.browser

OFFICE12 = REPO / "tests" / "data" / "office12.toml"
WAIT = 15_000
HALL_SIZES = ((1920, 1080), (1080, 1920), (1366, 768))
PAD_SIZES = ((1920, 1080), (1080, 1920))
LONG_REASON = "Họp giao ban với lãnh đạo phường về hồ sơ đất đai tồn đọng"

# Rows a list shows must be whole: a half-cut number misleads from across the room.
CUT_ROWS = """(sel) => [...document.querySelectorAll(sel)].flatMap((list) => {
  const box = list.getBoundingClientRect();
  return [...list.children].filter((li) => {
    const r = li.getBoundingClientRect();
    return r.height > 0 && (r.bottom > box.bottom + 1 || r.right > box.right + 1);
  }).map((li) => li.textContent.trim().slice(0, 40));
})"""

# The smallest text on screen, in CSS pixels.
SMALLEST_TEXT = """() => {
  let least = Infinity, where = '';
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < least) { least = size; where = el.className + ': ' + el.textContent.trim().slice(0, 30); }
  }
  return [least, where];
}"""


@pytest.fixture
def busy(live_server_factory):
    """The 12-field office mid-morning: people waiting in every field, most counters calling or
    serving, two on a break with a long reason, one closed."""
    server = live_server_factory(config=OFFICE12, extra_env={"MOTCUA_ISSUE_LIMIT_DEVICE": "off"})
    demo = server.demos["lon"]
    services = requests.get(server.url + "/api/v1/services", headers=demo.kiosk, timeout=10).json()["services"]
    for i, s in enumerate(services):
        for _ in range(2 + (i * 7) % 13):
            r = requests.post(server.url + "/api/v1/tickets", json={"service": s["code"]}, headers=demo.kiosk, timeout=10)
            assert r.status_code == 201, r.text

    def act(n: int, action: str, **body) -> None:
        r = requests.post(f"{server.url}/api/v1/counters/{n}/{action}", json=body or None, headers=demo.clerk(n).headers, timeout=10)
        assert r.status_code == 200, r.text

    for n in range(1, 12):
        act(n, "next")
        if n % 3 == 0:
            act(n, "start")
    act(4, "start")
    act(4, "finish")
    act(4, "pause", reason=LONG_REASON)
    act(9, "pause", reason="Sự cố máy tính, đang chờ kỹ thuật viên hỗ trợ")
    return server


def check(page: Page, state: str, lists: str | None = None) -> None:
    assert_fits(page, state)
    if lists:
        assert page.evaluate(CUT_ROWS, lists) == [], state


def test_the_hall_fits_twelve_fields_and_counters_at_every_size(busy, page: Page) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{busy.url}/display/?token={busy.demos['lon'].devices['Màn hình sảnh']}")
    expect(page.locator("#app")).to_be_visible(timeout=WAIT)
    expect(page.locator("#counters li")).not_to_have_count(0)
    for width, height in HALL_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # refitted after the resize
        state = f"hall {width}x{height}"
        check(page, state, "#counters, #waiting, #recent-calls")
        if (width, height) == (1920, 1080):
            least, where = page.evaluate(SMALLEST_TEXT)
            assert least >= 24, f"text of {least}px at 1920x1080 ({where})"
            assert_accessible(page, state)
        # Every field's count and every counter shows, on one page or the next.
        seen_fields, seen_counters = set(), set()
        for _ in range(6):
            seen_fields |= set(page.locator("#waiting li").evaluate_all("(ls) => ls.map((l) => l.dataset.service)"))
            seen_counters |= set(page.locator("#counters li").evaluate_all("(ls) => ls.map((l) => l.dataset.counter)"))
            if len(seen_fields) == 12 and len(seen_counters) == 12:
                break
            page.evaluate("() => motcuaDisplay.nextPage()")
            check(page, state + " (next page)", "#counters, #waiting")
            if (width, height) == (1920, 1080):
                assert_accessible(page, state + " (next page: the closed counter's contrast too)")
        assert len(seen_fields) == 12 and len(seen_counters) == 12, (state, seen_fields, seen_counters)
        screenshot(page, f"office12-hall-{width}x{height}")


@pytest.mark.parametrize("kind", ["display", "rating"])
def test_the_counter_display_and_the_rating_pad_fit(busy, page: Page, kind: str) -> None:
    name = "Màn hình quầy 1" if kind == "display" else "Đánh giá quầy 1"
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{busy.url}/counter/{kind}?token={busy.demos['lon'].devices[name]}")
    main = "#screen-main" if kind == "display" else "#screen-idle"
    expect(page.locator(main)).to_be_visible(timeout=WAIT)
    expect(page.locator("#cd-code" if kind == "display" else "#idle-code")).to_have_text(re.compile(r"^A\d+$"), timeout=WAIT)
    for width, height in PAD_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        state = f"counter {kind} {width}x{height}"
        check(page, state)
        assert_accessible(page, state)
        screenshot(page, f"office12-counter-{kind}-{width}x{height}")


def test_the_counter_page_and_login_fit(busy, page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(busy.url + "/login")
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, "login")
    check(page, "login")
    clerk = busy.demos['lon'].clerk(4)
    page.fill('input[name="username"]', clerk.username)
    page.fill('input[name="password"]', clerk.password)
    page.click('button[type="submit"]')
    page.wait_for_url(busy.url + "/counter/")
    expect(page.locator("#counter-status")).to_contain_text(LONG_REASON, timeout=WAIT)
    expect(page.locator("#waiting-list .wsvc")).not_to_have_count(0, timeout=WAIT)
    for width, height in ((1366, 768), (1920, 1080), (1080, 1920)):
        page.set_viewport_size({"width": width, "height": height})
        state = f"counter page {width}x{height}"
        check(page, state)
        assert_accessible(page, state)
        screenshot(page, f"office12-counter-page-{width}x{height}")
    page.locator('.act[data-action="resume"]').click()  # resume, then call: the called state too
    expect(page.locator("#counter-status")).to_have_text("Đang mở", timeout=WAIT)
    page.locator('.act[data-action="next"]').click()
    expect(page.locator("#cur-code")).to_have_text(re.compile(r"^[A-L]\d+$"), timeout=WAIT)
    check(page, "counter page, called")
    assert_accessible(page, "counter page, called")
    page.locator('.act[data-action="no-show"]').click()
    expect(page.locator("#dlg-noshow")).to_be_visible()
    assert_accessible(page, "counter page, no-show question")
