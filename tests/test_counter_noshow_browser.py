"""The counter page's confusing spots put right, in Chromium against a real `motcua serve`:
"5 Vắng mặt" asks first (a stray key never marks a citizen absent), "7" reads "Gọi số cụ thể…",
disabled buttons look disabled and the empty ticket is a hint, not a grey bar."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms: generous for a loaded machine; nothing here measures time


def issue(server, service: str) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=server.demo.kiosk, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def sign_in(page: Page, server, staff) -> None:
    page.goto(server.url + "/login")
    page.fill('input[name="username"]', staff.username)
    page.fill('input[name="password"]', staff.password)
    page.click('button[type="submit"]')
    page.wait_for_url(server.url + "/counter/")
    expect(page.locator("#counter-status")).to_have_text(re.compile("Đang mở|Tạm dừng|Đóng"), timeout=WAIT)


def button(page: Page, name: str):
    return page.locator(".act", has_text=name)


def ticket_status(server, code: str) -> str:
    r = requests.get(server.url + "/api/v1/queue", headers=server.demo.device_headers("Màn hình sảnh"), timeout=10)
    counter = next(c for c in r.json()["counters"] if c["number"] == 1)
    return counter["ticket"]["status"] if counter["ticket"] and counter["ticket"]["code"] == code else "gone"


def test_no_show_asks_first_and_the_buttons_say_what_they_do(live_server, page: Page) -> None:
    server = live_server
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, server, server.demo.clerk(1))
    hint = page.locator("#cur-code")
    expect(hint).to_have_text("Bấm 1 để gọi số tiếp theo", timeout=WAIT)
    # The empty state is a readable hint, not a huge pale dash that looks like a loading bar.
    assert page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#cur-code')).fontSize)") < 40
    expect(button(page, "Gọi số cụ thể…")).to_contain_text("7")
    expect(page.locator('.act[data-key="7"]')).not_to_have_text(re.compile(r"^7\s*Gọi số$"))

    # Disabled buttons look disabled: grey and dashed, not the colour of a working button.
    finish = button(page, "Kết thúc")
    expect(finish).to_be_disabled()
    style = finish.evaluate("(b) => { const s = getComputedStyle(b); return [s.backgroundColor, s.borderTopStyle]; }")
    assert style == ["rgb(238, 240, 243)", "dashed"], style
    enabled = button(page, "Gọi số tiếp theo").evaluate("(b) => getComputedStyle(b).borderTopStyle")
    assert enabled == "solid"

    code = issue(server, "HT")["code"]
    page.keyboard.press("1")
    expect(hint).to_have_text(code, timeout=WAIT)
    # A stray "5" right after the call: a question, not an absent citizen.
    page.keyboard.press("5")
    dialog = page.locator("#dlg-noshow")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(f"Đánh dấu vắng mặt số {code}?")
    # Just called: the office gives the citizen 5 seconds to come (the engine refuses earlier too).
    expect(page.locator("#noshow-wait")).to_contain_text("chờ thêm")
    expect(page.locator("#noshow-confirm")).to_be_disabled()
    page.keyboard.press("Enter")
    assert ticket_status(server, code) == "called"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert ticket_status(server, code) == "called"

    # Asked and confirmed with Enter: marked absent.
    page.keyboard.press("5")
    expect(dialog).to_be_visible()
    expect(page.locator("#noshow-confirm")).to_be_enabled(timeout=WAIT)
    expect(page.locator("#noshow-confirm")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=WAIT)
    expect(hint).to_have_text("Bấm 1 để gọi số tiếp theo", timeout=WAIT)
    assert ticket_status(server, code) == "gone"
