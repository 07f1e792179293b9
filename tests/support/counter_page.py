"""The counter page in a browser, as a clerk uses it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

WAIT = 10_000  # ms: generous for a loaded CI machine; nothing here measures time


def sign_in(page: Page, server, staff) -> None:
    page.goto(server.url + "/login")
    page.fill('input[name="username"]', staff.username)
    page.fill('input[name="password"]', staff.password)
    page.click('button[type="submit"]')
    page.wait_for_url(server.url + "/counter/")  # a clerk's home after sign-in
    # The counter's state arrives with the socket's first snapshot; keys do nothing before it.
    expect(page.locator("#counter-status")).to_have_text(re.compile("Đang mở|Tạm dừng|Đóng"), timeout=WAIT)
